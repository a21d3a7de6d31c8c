package dionode.node.trace;

import dionode.protocol.message.Reply;
import java.util.concurrent.CompletableFuture;

/**
 * A request's reply future that also carries its {@link OpTrace}, so that the trace travels with
 * the request through every path that already carries the reply, with no signature changing.
 * Thread-safe as a future; the trace is as {@link OpTrace} says.
 */
public final class TracedReply extends CompletableFuture<Reply> {
    private final OpTrace trace;

    public TracedReply(OpTrace trace) {
        this.trace = trace;
    }

    public OpTrace trace() {
        return trace;
    }

    /** The trace of the request {@code reply} answers, or {@link OpTrace#NONE}. */
    public static OpTrace of(CompletableFuture<Reply> reply) {
        return reply instanceof TracedReply traced ? traced.trace : OpTrace.NONE;
    }
}
