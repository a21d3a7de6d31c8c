package dionode.node.trace;

/**
 * One request's way through the node: which {@link Stage} it is in since when, and the time it
 * has spent in each. The request's owner moves it on ({@link #enter}); {@link #replied} hands the
 * figures to the node's {@link StageLatencies}.
 *
 * <p>Not thread-safe, and needs no lock: it moves with its request, from the stream to the inode
 * actor, to an I/O thread and back, and each hand-over (an actor message, a future's completion)
 * orders the writes before it with the reads after it.
 */
public final class OpTrace {
    /** A trace that records nothing: requests that come from no connection (tests, the node itself). */
    public static final OpTrace NONE = new OpTrace(null, "none");

    private final StageLatencies sink;
    private final String op;
    private final long[] nanos = new long[Stage.values().length];
    private final long born;
    private Stage stage = Stage.QUEUE;
    private long since;
    private boolean done;

    OpTrace(StageLatencies sink, String op) {
        this.sink = sink;
        this.op = op;
        this.born = sink == null ? 0 : sink.now();
        this.since = born;
    }

    /** From now on the request is in {@code next}; the time since the last change goes to the stage it leaves. */
    public void enter(Stage next) {
        if (sink == null || done || next == stage) {
            return;
        }
        long now = sink.now();
        nanos[stage.ordinal()] += now - since;
        stage = next;
        since = now;
    }

    /** The reply reached the socket: the request's figures are recorded, once. */
    public void replied() {
        if (sink == null || done) {
            return;
        }
        long now = sink.now();
        nanos[stage.ordinal()] += now - since; // the reply's way out, or wherever a front-end without one left it
        done = true;
        sink.record(op, nanos, now - born);
    }
}
