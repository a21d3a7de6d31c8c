package dionode.node.server;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The wire bytes one connection makes the node hold: what its decoder buffers and has reserved
 * for the frame it is receiving, and what its requests hold until TCP has taken their replies.
 * The first {@link WireLimits#FREE_BYTES_PER_CONNECTION} bytes are the connection's own; beyond
 * them every byte is drawn from the node's {@link WireBudget}. Bytes that have already arrived are
 * counted at once; bytes still to come (the rest of a frame, a reply) are {@link #reserve reserved}
 * first, and when they do not fit under the connection's cap or in W the caller stops reading
 * until a release wakes it. Closing the connection gives everything back.
 *
 * <p>Confined to one connection's stream (its stages run on one actor at a time), except
 * {@link #wakeFromNode} and {@link #markQueued}, which any thread may call and which only invoke
 * the stages' async callbacks.
 */
public final class Allowance {
    private final WireBudget node;
    private final long cap;
    private final long free;
    private final AtomicBoolean queued = new AtomicBoolean();
    private final List<Runnable> wakers = new CopyOnWriteArrayList<>();
    private long charged;
    private long buffered;
    private boolean waitingOnCap;
    private boolean closed;

    public Allowance(WireBudget node, long cap, long free) {
        this.node = node;
        this.cap = cap;
        this.free = free;
    }

    /** Called, from any thread, when a stage that stopped for want of room should ask again (an async callback). */
    public void onWake(Runnable waker) {
        wakers.add(waker);
    }

    /** The decoder now buffers {@code bytes} bytes (they have arrived: counted without waiting). */
    public void arrived(long bytes) {
        if (bytes > buffered) {
            occupy(bytes - buffered);
            buffered = bytes;
        }
    }

    /** The decoder's buffer may grow to {@code bytes}: false (and a wake-up left) when that does not fit yet. */
    public boolean cover(long bytes) {
        if (bytes <= buffered) {
            return true;
        }
        if (!reserve(bytes - buffered)) {
            return false;
        }
        buffered = bytes;
        return true;
    }

    /** {@code n} of the decoder's bytes now belong to an element on its way to a reply. */
    public void handOver(long n) {
        buffered -= n;
    }

    /** {@code n} of the decoder's bytes were used up where they were read (a handshake step). */
    public void consume(long n) {
        handOver(n);
        release(n);
    }

    /** The decoder drops what it holds (the connection ends). */
    public void discardBuffer() {
        release(buffered);
        buffered = 0;
    }

    /** Bytes still to come: true if they fit (and are now counted), else false and a wake-up is left. */
    public boolean reserve(long n) {
        if (closed || n <= 0) {
            return true;
        }
        if (charged + n > cap) {
            waitingOnCap = true;
            node.waited();
            return false;
        }
        long draw = drawn(charged + n) - drawn(charged);
        if (draw > 0 && !node.tryDraw(draw)) {
            node.await(this);
            if (!node.tryDraw(draw)) {
                node.waited();
                return false;
            }
        }
        add(n);
        return true;
    }

    /** Bytes that are already here (a reply larger than reserved): counted without waiting. */
    public void occupy(long n) {
        if (closed || n <= 0) {
            return;
        }
        node.draw(drawn(charged + n) - drawn(charged));
        add(n);
    }

    /** An element's bytes are gone (its reply was taken by TCP, or it had none). */
    public void release(long n) {
        if (closed || n <= 0) {
            return;
        }
        long back = drawn(charged) - drawn(charged - n);
        add(-n);
        node.giveBack(back);
        if (waitingOnCap) {
            waitingOnCap = false;
            wakers.forEach(Runnable::run);
        }
    }

    /** The connection ended: everything it held goes back. */
    public void close() {
        if (!closed) {
            release(charged);
            closed = true;
        }
    }

    boolean markQueued() {
        return queued.compareAndSet(false, true);
    }

    void wakeFromNode() {
        queued.set(false);
        wakers.forEach(Runnable::run);
    }

    private long drawn(long bytes) {
        return Math.max(0, bytes - free);
    }

    private void add(long n) {
        charged += n;
        node.held(n);
    }
}
