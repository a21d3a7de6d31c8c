package dionode.protocol.client;

import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One request in flight: the future handed to the caller, which also remembers its request id and
 * how to turn the reply into the caller's type, so a request costs one object beyond its frame.
 *
 * <p>Thread-safety: {@link #id} is written by the submitting thread before the call is published
 * in the client's slot table (a volatile write) and only read after taking it from there;
 * completion is {@link CompletableFuture}'s, normally by the reader thread.
 */
final class Call<T> extends CompletableFuture<T> {
    long id;
    private final Function<Reply, T> convert;
    private final boolean errorsAsValues;

    Call(Function<Reply, T> convert, boolean errorsAsValues) {
        this.convert = convert;
        this.errorsAsValues = errorsAsValues;
    }

    /** Completes with the decoded reply; never throws. */
    void deliver(Object message) {
        if (!(message instanceof Reply reply)) {
            completeExceptionally(NodeException.stackless(Errno.EBADMSG,
                    "reply to request " + id + " is not a reply but a " + message.getClass().getName()));
            return;
        }
        if (reply instanceof Reply.Error error && !errorsAsValues) {
            completeExceptionally(NodeException.stackless(error.errno() == null ? Errno.EIO : error.errno(), error.message()));
            return;
        }
        T value;
        try {
            value = convert.apply(reply);
        } catch (NodeException e) {
            completeExceptionally(e);
            return;
        }
        complete(value);
    }

    @Override
    public String toString() {
        return "Call[id=" + id + ", " + super.toString() + "]";
    }
}
