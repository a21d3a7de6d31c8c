package dionode.cli.client;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A bounded window of requests in flight whose results are consumed in submission order on the
 * calling thread. Not thread-safe: one thread submits and drains.
 */
final class Pipeline<T> {
    private final ArrayDeque<CompletableFuture<T>> window = new ArrayDeque<>();
    private final int depth;
    private final Consumer<T> sink;

    Pipeline(int depth, Consumer<T> sink) {
        this.depth = depth;
        this.sink = sink;
    }

    /** Consumes results until there is room, then issues the request. */
    void submit(Supplier<CompletionStage<T>> request) {
        while (window.size() >= depth) {
            next();
        }
        window.add(request.get().toCompletableFuture());
    }

    /** Consumes every outstanding result. */
    void drain() {
        while (!window.isEmpty()) {
            next();
        }
    }

    private void next() {
        sink.accept(ClientCommand.await(window.poll()));
    }
}
