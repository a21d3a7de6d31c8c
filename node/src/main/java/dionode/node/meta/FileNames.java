package dionode.node.meta;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What makes a file name of the flat namespace: judged on its UTF-8 bytes, the form the inode
 * record stores, so a name the node accepts is stored, found and listed as exactly that name. The
 * namespace judges names of requests with {@link #check(String)}, mount and fsck the stored bytes
 * with {@link #check(byte[], int, int)}: one rule for both. Stateless and thread-safe.
 */
public final class FileNames {

    /** Why a name is not a file name. */
    public enum Fault {
        EMPTY("a file name may not be empty"),
        DOT("'.' and '..' are not file names"),
        SLASH("a file name may not contain '/'"),
        NUL("a file name may not contain NUL"),
        /** Unpaired surrogates (Java strings) or malformed bytes (images): no UTF-8 round trip. */
        NOT_UTF8("a file name must be valid UTF-8 (an unpaired surrogate has no UTF-8 form)"),
        TOO_LONG("file names are at most " + InodeRecord.MAX_NAME_BYTES + " bytes of UTF-8");

        private final String message;

        Fault(String message) {
            this.message = message;
        }

        public String message() {
            return message;
        }
    }

    private FileNames() {
    }

    /** The fault of a name a client sent, or null for a valid name. {@code name} is not null. */
    public static Fault check(String name) {
        byte[] utf8;
        try {
            // String.getBytes would turn an unpaired surrogate into '?': two names, one stored name
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(name));
            utf8 = Arrays.copyOf(encoded.array(), encoded.limit());
        } catch (CharacterCodingException e) {
            return Fault.NOT_UTF8;
        }
        return check(utf8, 0, utf8.length);
    }

    /** The fault of a stored name: {@code len} bytes at {@code off}, or null for a valid name. */
    public static Fault check(byte[] bytes, int off, int len) {
        if (len == 0) {
            return Fault.EMPTY;
        }
        if (len > InodeRecord.MAX_NAME_BYTES) {
            return Fault.TOO_LONG;
        }
        if (len <= 2 && bytes[off] == '.' && (len == 1 || bytes[off + 1] == '.')) {
            return Fault.DOT;
        }
        for (int i = off; i < off + len; i++) {
            if (bytes[i] == '/') {
                return Fault.SLASH;
            }
            if (bytes[i] == 0) {
                return Fault.NUL;
            }
        }
        return decode(bytes, off, len) == null ? Fault.NOT_UTF8 : null;
    }

    /** Stored name bytes for a report: printable ASCII as it is, every other byte as {@code \xNN}. */
    public static String printable(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte x : bytes) {
            if (x >= 0x20 && x < 0x7f && x != '\\') {
                out.append((char) x);
            } else {
                out.append(String.format("\\x%02x", x & 0xff));
            }
        }
        return out.toString();
    }

    /**
     * The name of {@code len} bytes at {@code off} when they are UTF-8 that encodes back to the
     * same bytes (no malformed, overlong or surrogate sequences), else null.
     */
    public static String decode(byte[] bytes, int off, int len) {
        String name;
        try {
            name = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, off, len)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        byte[] again = name.getBytes(StandardCharsets.UTF_8);
        return Arrays.equals(again, 0, again.length, bytes, off, off + len) ? name : null;
    }
}
