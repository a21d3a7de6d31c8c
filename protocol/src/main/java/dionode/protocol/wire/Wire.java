package dionode.protocol.wire;

/**
 * The frame format, shared by both ends. Immutable constants.
 *
 * <pre>
 *  0               4                               12
 *  +---------------+-------------------------------+---------------------------+
 *  | length (u32)  | request id (u64)              | Kryo body (length - 8)    |
 *  +---------------+-------------------------------+---------------------------+
 *  big-endian; length counts the id and the body, never itself
 * </pre>
 *
 * The request id sits outside the Kryo body so that a frame whose body is oversized or cannot be
 * decoded can still be answered with {@code EBADMSG} before the connection is closed.
 */
public final class Wire {
    public static final int LENGTH_BYTES = 4;
    public static final int ID_BYTES = 8;
    public static final int HEADER_BYTES = LENGTH_BYTES + ID_BYTES;
    /** Default maximum Kryo body size, enforced by both ends. */
    public static final int DEFAULT_MAX_PAYLOAD = 16 << 20;
    /**
     * Largest read or write one request may carry: a write plus its envelope always fits in the
     * default payload.
     */
    public static final int MAX_IO_BYTES = 8 << 20;

    private Wire() {
    }

    /**
     * Judges a declared frame length before anything is buffered (a peer declaring ~2 GiB must not
     * make us allocate it). Returns null when acceptable, else why not.
     */
    public static String checkLength(long declared, int maxPayload) {
        if (declared < ID_BYTES) {
            return "frame length " + declared + " is shorter than its request id";
        }
        if (declared - ID_BYTES > maxPayload) {
            return "frame body of " + (declared - ID_BYTES) + " bytes exceeds the maximum of " + maxPayload;
        }
        return null;
    }
}
