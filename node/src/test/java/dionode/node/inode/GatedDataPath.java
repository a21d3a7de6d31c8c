package dionode.node.inode;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The real data path with a gate at "after mapping, before device I/O": while closed, each I/O is
 * held until the test lets it go, so ordering tests can interleave requests deterministically. The
 * I/O itself still goes to the O_DIRECT device. Thread-safe.
 */
public final class GatedDataPath implements DataPath {

    /** One held I/O. */
    public record Held(String kind, List<?> segs, Runnable go) {
    }

    private final DataPath real;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final LinkedBlockingDeque<Held> held = new LinkedBlockingDeque<>();
    private final java.util.concurrent.atomic.AtomicReference<RuntimeException> throwNext =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicReference<Error> errorNext = new java.util.concurrent.atomic.AtomicReference<>();

    public GatedDataPath(DataPath real) {
        this.real = real;
    }

    public void close() {
        closed.set(true);
    }

    /** Opens the gate and lets everything held go. */
    public void open() {
        closed.set(false);
        Held h;
        while ((h = held.poll()) != null) {
            h.go().run();
        }
    }

    /** The next read or write throws {@code e} from the call itself instead of returning a future. */
    public void throwOnNextCall(RuntimeException e) {
        throwNext.set(e);
    }

    /** The next read or write throws {@code e}, which no handler in the node expects. */
    public void failOnNextCall(Error e) {
        errorNext.set(e);
    }

    public int heldCount() {
        return held.size();
    }

    /** Waits until {@code n} I/Os are held. */
    public void awaitHeld(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (held.size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + n + " held I/Os, have " + held.size());
            }
            Thread.sleep(2);
        }
    }

    /** Lets the oldest held I/O go. */
    public Held releaseOne() throws InterruptedException {
        Held h = held.poll(10, TimeUnit.SECONDS);
        if (h == null) {
            throw new AssertionError("no held I/O");
        }
        h.go().run();
        return h;
    }

    @Override
    public CompletableFuture<Void> write(List<WriteSeg> segs) {
        return gate("write", segs, () -> real.write(segs));
    }

    @Override
    public CompletableFuture<Void> read(List<ReadSeg> segs) {
        return gate("read", segs, () -> real.read(segs));
    }

    private CompletableFuture<Void> gate(String kind, List<?> segs, java.util.function.Supplier<CompletableFuture<Void>> io) {
        RuntimeException injected = throwNext.getAndSet(null);
        if (injected != null) {
            throw injected;
        }
        Error error = errorNext.getAndSet(null);
        if (error != null) {
            throw error;
        }
        if (!closed.get()) {
            return io.get();
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        held.add(new Held(kind, segs, () -> io.get().whenComplete((v, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(null);
            }
        })));
        return f;
    }
}
