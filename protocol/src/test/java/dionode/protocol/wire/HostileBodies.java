package dionode.protocol.wire;

import dionode.protocol.FileId;
import dionode.protocol.message.Request;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Frame bodies an attacker crafts by hand, byte by byte as Kryo would read them (class ids on the
 * wire are the registration id + 2, see {@code KryoCodec.REGISTRATIONS}); used by the codec's
 * tests and, through the real server, by the node's. Stateless.
 */
public final class HostileBodies {
    public static final int ARRAY_LIST = 53 + 2;
    public static final int LIST_N = 52 + 2;
    public static final int FILE_LIST = 41 + 2;
    static final int LOOKUP = 24 + 2;
    static final int WRITE = 27 + 2;

    private HostileBodies() {
    }

    /** A whole frame: length, request id, body. */
    public static byte[] frame(long requestId, byte[] body) {
        return ByteBuffer.allocate(Wire.HEADER_BYTES + body.length).putInt(Wire.ID_BYTES + body.length).putLong(requestId).put(body)
                .array();
    }

    /** {@code depth} lists of class {@code listId}, each holding the next, the innermost empty: two bytes a level. */
    public static byte[] nestedLists(int listId, int depth) {
        byte[] body = new byte[2 * depth];
        for (int i = 0; i < depth; i++) {
            body[2 * i] = (byte) listId;
            body[2 * i + 1] = (byte) (i == depth - 1 ? 0 : 1);
        }
        return body;
    }

    /** {@code Stat(file)} with its class written by name: Kryo's NAME id, name id 0, the ASCII class name, the record. */
    public static byte[] statByName(FileId file) {
        byte[] byId = new KryoCodec().encodeFrame(1, new Request.Stat(file));
        byte[] name = Request.Stat.class.getName().getBytes(StandardCharsets.US_ASCII);
        name[name.length - 1] |= (byte) 0x80;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(1);
        body.write(0);
        body.writeBytes(name);
        body.write(byId, Wire.HEADER_BYTES + 1, byId.length - Wire.HEADER_BYTES - 1);
        return body.toByteArray();
    }

    /** A Lookup whose name declares {@code chars} characters (Kryo's UTF-8 form: flag bit, count + 1) and holds "abc". */
    public static byte[] lookupDeclaring(long chars) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(LOOKUP);
        long v = chars + 1;
        // first byte: 0x80 = UTF-8 flag, 0x40 = more bytes follow, 6 bits of value; then plain varint bytes
        body.write((int) (0x80 | (v >>> 6 != 0 ? 0x40 : 0) | (v & 0x3f)));
        v >>>= 6;
        while (v != 0) {
            body.write((int) ((v & 0x7f) | (v >>> 7 != 0 ? 0x80 : 0)));
            v >>>= 7;
        }
        body.writeBytes("abc".getBytes(StandardCharsets.US_ASCII));
        return body.toByteArray();
    }

    /** A Write(1, 0, data, 0) whose data declares {@code bytes} bytes and holds three (record components go by name: data first). */
    public static byte[] writeDeclaring(int bytes) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(WRITE);
        long v = (long) bytes + 1;
        while ((v & ~0x7fL) != 0) {
            body.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        body.write((int) v);
        body.writeBytes(new byte[] {1, 2, 3, 0, 2, 0}); // the data held, flags 0, ino 1 (zig-zag), offset 0
        return body.toByteArray();
    }
}
