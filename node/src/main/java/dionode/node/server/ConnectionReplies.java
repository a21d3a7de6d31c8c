package dionode.node.server;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One connection's replies between {@code mapAsyncUnordered} and the socket, so the element that
 * closes the connection leaves only after every earlier request's reply has left. Waiting for the
 * earlier replies' futures is not enough: a future completes before the stage emits it (its
 * callback is asynchronous), while an already-completed last element is emitted at once and would
 * overtake it. So each reply counts as pending until {@link #emitted} has seen it downstream.
 * Thread-safe; one instance per connection.
 *
 * @param <T> the reply element
 */
public final class ConnectionReplies<T> {
    /** A reply on its way out, with what to complete once it has been emitted. */
    public record Tracked<T>(T value, CompletableFuture<Void> sent) {
    }

    private final Set<CompletableFuture<Void>> unsent = ConcurrentHashMap.newKeySet();

    /** A request's reply: pending until emitted (or failed: a failed reply never leaves). */
    public CompletionStage<Tracked<T>> track(CompletionStage<T> reply) {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        unsent.add(sent);
        return reply.whenComplete((v, e) -> {
            if (e != null) {
                sent(sent);
            }
        }).thenApply(v -> new Tracked<>(v, sent));
    }

    /** The connection's last element, completed once every reply tracked before it has left. */
    public CompletionStage<Tracked<T>> last(T value) {
        CompletableFuture<?>[] earlier = unsent.toArray(new CompletableFuture<?>[0]);
        return CompletableFuture.allOf(earlier).handle((v, e) -> new Tracked<>(value, null));
    }

    /** An element that needs no ordering against the close (it was complete when it entered). */
    public CompletionStage<Tracked<T>> now(T value) {
        return CompletableFuture.completedFuture(new Tracked<>(value, null));
    }

    /** Call downstream of {@code mapAsyncUnordered}: the element has been emitted. */
    public T emitted(Tracked<T> t) {
        if (t.sent() != null) {
            sent(t.sent());
        }
        return t.value();
    }

    private void sent(CompletableFuture<Void> sent) {
        unsent.remove(sent);
        sent.complete(null);
    }
}
