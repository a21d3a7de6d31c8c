package dionode.loadgen.soak;

import dionode.protocol.Errno;
import dionode.protocol.client.NodeException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How one request ended: its value, the node's errno, the connection lost under it, or no answer
 * within the soak's bound. Immutable.
 *
 * @param errno null when the request succeeded (or timed out)
 * @param detail the node's (or the client's) message; empty when ok
 */
record Answer<T>(T value, Errno errno, boolean timedOut, boolean lost, String detail) {
    static final String OK = "ok";
    static final String TIMEOUT = "timeout";
    static final String LOST = "lost";

    boolean ok() {
        return errno == null && !timedOut && !lost;
    }

    boolean is(Errno e) {
        return errno == e && !lost;
    }

    /** {@code ok}, {@code timeout}, {@code lost} or the errno's name: the tally's outcome. */
    String outcome() {
        return timedOut ? TIMEOUT : lost ? LOST : errno == null ? OK : errno.name();
    }

    /** The ending of a completed stage. */
    static <T> Answer<T> of(T value, Throwable failure) {
        if (failure == null) {
            return new Answer<>(value, null, false, false, "");
        }
        Throwable t = failure instanceof CompletionException || failure instanceof ExecutionException
                ? failure.getCause() != null ? failure.getCause() : failure : failure;
        if (t instanceof TimeoutException) {
            return new Answer<>(null, null, true, false, "no answer in time");
        }
        if (t instanceof NodeException n) {
            // the client fails a request with EIO "connection to ... closed/lost" when the connection goes
            boolean lost = n.errno() == Errno.EIO && n.detail().startsWith("connection to ");
            return new Answer<>(null, n.errno(), false, lost, n.detail());
        }
        return new Answer<>(null, Errno.EIO, false, true, t.toString());
    }

    /** The stage bounded by {@code limit}: past it the answer is a timeout (the request stays outstanding). */
    static <T> CompletableFuture<Answer<T>> bounded(CompletionStage<T> stage, Duration limit) {
        return stage.toCompletableFuture().orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS).handle(Answer::of);
    }

    /** Waits for the stage, at most {@code limit}. */
    static <T> Answer<T> await(CompletionStage<T> stage, Duration limit) {
        return bounded(stage, limit).join();
    }

    @Override
    public String toString() {
        return ok() ? OK : outcome() + (detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
