package dionode.node.nbd;

import java.util.List;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * Encodes structured reply chunks (proto.md "Structured reply chunk message"): a 20-byte header
 * (magic, flags, type, handle, payload length) and the payload of its type. Only chunks the
 * caller marks {@code done} carry NBD_REPLY_FLAG_DONE; an error chunk always ends its reply (a
 * request here fails as a whole, so no content chunk follows an error). Stateless.
 */
final class StructuredReply {
    static final int HEADER_BYTES = 20;
    /** Longest error message sent: enough for an errno and its text, and a bound the wire budget reserves. */
    static final int MAX_MESSAGE_BYTES = 256;
    /** The most bytes an error chunk takes: header, error, message length, message. */
    static final int MAX_ERROR_CHUNK = HEADER_BYTES + 6 + MAX_MESSAGE_BYTES;
    /** An OFFSET_DATA chunk without its data: header and offset. */
    static final int DATA_OVERHEAD = HEADER_BYTES + 8;
    /** An OFFSET_HOLE chunk: header, offset, hole size. */
    static final int HOLE_CHUNK = HEADER_BYTES + 12;

    private StructuredReply() {
    }

    static ByteString data(long handle, long offset, ByteString data, boolean done) {
        return header(done, Nbd.REPLY_TYPE_OFFSET_DATA, handle, 8 + data.size()).putLong(offset, Handshake.Bo.BE).result()
                .concat(data);
    }

    static ByteString hole(long handle, long offset, int length, boolean done) {
        return header(done, Nbd.REPLY_TYPE_OFFSET_HOLE, handle, 12).putLong(offset, Handshake.Bo.BE)
                .putInt(length, Handshake.Bo.BE).result();
    }

    /** One BLOCK_STATUS chunk: the context id, then (length, flags) per run; every run's length fits 32 bits. */
    static ByteString blockStatus(long handle, int contextId, List<AllocationMap.Run> runs, boolean done) {
        ByteStringBuilder b = header(done, Nbd.REPLY_TYPE_BLOCK_STATUS, handle, 4 + 8 * runs.size()).putInt(contextId, Handshake.Bo.BE);
        for (AllocationMap.Run r : runs) {
            b.putInt((int) r.length(), Handshake.Bo.BE).putInt(r.state(), Handshake.Bo.BE);
        }
        return b.result();
    }

    /** NBD_REPLY_TYPE_ERROR, the reply's last chunk; the message is cut (at whole characters) to {@link #MAX_MESSAGE_BYTES}. */
    static ByteString error(long handle, int error, String message) {
        byte[] text = Handshake.utf8(message == null ? "" : message, MAX_MESSAGE_BYTES);
        return header(true, Nbd.REPLY_TYPE_ERROR, handle, 6 + text.length).putInt(error, Handshake.Bo.BE)
                .putShort(text.length, Handshake.Bo.BE).putBytes(text).result();
    }

    /** NBD_REPLY_TYPE_NONE: a reply with nothing (more) to say, e.g. a READ of length 0. */
    static ByteString none(long handle) {
        return header(true, Nbd.REPLY_TYPE_NONE, handle, 0).result();
    }

    private static ByteStringBuilder header(boolean done, int type, long handle, int length) {
        return new ByteStringBuilder().putInt(Nbd.STRUCTURED_REPLY_MAGIC, Handshake.Bo.BE)
                .putShort(done ? Nbd.REPLY_FLAG_DONE : 0, Handshake.Bo.BE).putShort(type, Handshake.Bo.BE)
                .putLong(handle, Handshake.Bo.BE).putInt(length, Handshake.Bo.BE);
    }
}
