package dionode.protocol.message;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;

/**
 * The field rules {@link Request#checkFields()} is made of; each returns why a value is refused, in
 * the user's terms, or null. Stateless and thread-safe.
 */
final class FieldChecks {
    /** Permission and setuid/setgid bits: the only mode bits a file of the node has. */
    static final int MODE_BITS = 07777;

    private FieldChecks() {
    }

    /** The first refusal, or null. */
    static String first(String... refusals) {
        for (String r : refusals) {
            if (r != null) {
                return r;
            }
        }
        return null;
    }

    static String missing(String what, Object value) {
        return value == null ? what + " is missing" : null;
    }

    static String notNegative(String what, long value) {
        return value < 0 ? what + " must not be negative (got " + value + ")" : null;
    }

    static String modeBits(String op, int mode) {
        return (mode & ~MODE_BITS) != 0
                ? op + ": mode " + String.format("0%o", mode) + " has bits outside 07777 (permission and setuid/setgid bits)"
                : null;
    }

    static String ioFlags(String op, int flags) {
        return (flags & ~IoFlags.ALL) != 0
                ? op + ": unknown flag bits 0x" + Integer.toHexString(flags & ~IoFlags.ALL)
                        + " (known: NOWAIT 0x1, ASYNC 0x2, DURABLE 0x4, BUFFERED 0x8)"
                : null;
    }

    /** A handle and a byte range: fallocate, punch, zero-range, fiemap. */
    static String range(String op, FileId file, long offset, long length) {
        return first(missing(op + ": the file handle", file), notNegative(op + " offset", offset),
                notNegative(op + " length", length));
    }
}
