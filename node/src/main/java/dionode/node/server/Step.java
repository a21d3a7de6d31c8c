package dionode.node.server;

import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.Wire;

/**
 * One frame on its way through a native connection: a request to run, or (request null) the
 * refusal that ends the connection, null when the frame's id could not be read; with the wire
 * bytes of the connection's allowance it holds. Immutable.
 */
record Step(long requestId, Request request, Reply.Error refusal, long cost) {
    /** Reserved for a reply that carries no data: an envelope, a name, a message. A larger one is counted when encoded. */
    static final long SMALL_REPLY = 1 << 10;

    Step plus(long bytes) {
        return new Step(requestId, request, refusal, cost + bytes);
    }

    /** The most wire bytes its reply can take: a read's data, a listing up to a whole frame, else a small reply. */
    long replyBound(int maxPayload) {
        if (request instanceof Request.Read r) {
            return SMALL_REPLY + Math.max(0, Math.min(r.length(), Wire.MAX_IO_BYTES));
        }
        if (request instanceof Request.ListFiles || request instanceof Request.Fiemap) {
            return Wire.HEADER_BYTES + (long) maxPayload;
        }
        return SMALL_REPLY;
    }
}
