package dionode.node.server;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node-wide budget W on wire bytes ({@link WireLimits#nodeBytes}), drawn on by every
 * connection's {@link Allowance} beyond its free bytes. A connection that cannot have what it asks
 * for leaves itself in a queue and stops reading; every release wakes every queued connection to
 * ask again. The queue holds each connection at most once, so it is bounded by the connections.
 * When nothing is drawn, any one reservation is granted, so a request larger than W still runs
 * alone. Thread-safe and lock-free.
 */
public final class WireBudget {
    private final long capacity;
    private final AtomicLong drawn = new AtomicLong();
    private final AtomicLong held = new AtomicLong();
    private final LongAdder waits = new LongAdder();
    private final Queue<Allowance> waiting = new ConcurrentLinkedQueue<>();

    public WireBudget(long capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("wire budget must be positive, not " + capacity);
        }
        this.capacity = capacity;
    }

    /** Bytes every connection holds, free bytes included (the {@code wire_bytes} stat). */
    public long heldBytes() {
        return held.get();
    }

    /** Times a connection stopped reading for want of room, its own or the node's (the {@code wire_waits} stat). */
    public long waits() {
        return waits.sum();
    }

    boolean tryDraw(long n) {
        while (true) {
            long d = drawn.get();
            if (d > 0 && d + n > capacity) {
                return false;
            }
            if (drawn.compareAndSet(d, d + n)) {
                return true;
            }
        }
    }

    /** Bytes that have already arrived: counted whether or not W has room. */
    void draw(long n) {
        drawn.addAndGet(n);
    }

    void giveBack(long n) {
        if (n > 0) {
            drawn.addAndGet(-n);
            wakeAll();
        }
    }

    void held(long delta) {
        held.addAndGet(delta);
    }

    void waited() {
        waits.increment();
    }

    /** Queues {@code a} to be woken by the next release; call before asking again, so no release is missed. */
    void await(Allowance a) {
        if (a.markQueued()) {
            waiting.add(a);
        }
    }

    private void wakeAll() {
        Allowance a;
        while ((a = waiting.poll()) != null) {
            a.wakeFromNode();
        }
    }
}
