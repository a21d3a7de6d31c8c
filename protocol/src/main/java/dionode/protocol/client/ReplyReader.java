package dionode.protocol.client;

import dionode.protocol.Errno;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.MalformedFrameException;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Who reads a connection's replies: one thread at a time, holding {@link #reading}. That is the
 * connection's background reader thread, unless a caller waits for its own reply in
 * {@link #await} ({@link NodeClient#sync}): such a caller reads the socket itself, so its reply
 * wakes it straight from the kernel, where the background reader would be woken first and then
 * wake the caller (a second thread hand-over per request, the larger part of a small request's
 * cost on a busy machine). While any caller waits that way the background reader stays parked;
 * whoever holds {@link #reading} dispatches every reply it reads, its own or not, and a caller
 * reads only until its own reply is in, so every reply someone waits for is read by someone.
 *
 * <p>Thread-safe. The background thread parks without a lock; the "idle" flag is published
 * before it looks at the work once more, and a sender looks at the flag after publishing its
 * request, so no request is left with nobody reading.
 */
final class ReplyReader {
    /** The client's side: where replies go, whether any request awaits one, how the connection ends. */
    interface Sink {
        void reply(long requestId, Object message) throws MalformedFrameException;

        boolean outstanding();

        void closed(NodeException cause);
    }

    private final String endpoint;
    private final KryoCodec codec;
    private final FrameReader frames;
    private final Sink sink;
    private final ReentrantLock reading = new ReentrantLock();
    private final AtomicInteger callers = new AtomicInteger();
    /** How many times the calling thread is counted in {@link #callers} (sync calls nest). */
    private final ThreadLocal<Depth> depth = ThreadLocal.withInitial(Depth::new);
    private final Thread background;
    private volatile boolean idle;
    private volatile boolean stopped;

    ReplyReader(String endpoint, InputStream in, int maxPayload, KryoCodec codec, Sink sink) {
        this.endpoint = endpoint;
        this.codec = codec;
        this.frames = new FrameReader(in, maxPayload);
        this.sink = sink;
        this.background = new Thread(this::backgroundLoop, "dionode-client-reader-" + endpoint);
        this.background.setDaemon(true);
    }

    void start() {
        background.start();
    }

    /** Is this thread the one reading replies now (a reply callback runs on it). */
    boolean isReaderThread() {
        return reading.isHeldByCurrentThread() || Thread.currentThread() == background;
    }

    /** A request was sent: unless a caller will read for it, the background reader must. */
    void sent() {
        if (idle && callers.get() == 0) {
            LockSupport.unpark(background);
        }
    }

    /** The connection ended: nobody reads any more. */
    void stop() {
        stopped = true;
        LockSupport.unpark(background);
    }

    /** Waits for the background thread to end, up to {@code millis}, unless called from it. */
    void join(long millis) throws InterruptedException {
        if (Thread.currentThread() != background) {
            background.join(millis);
        }
    }

    private static final class Depth {
        int n;
    }

    /** Counts the calling thread in as a caller that will read for itself, before it sends. */
    void enter() {
        depth.get().n++;
        callers.incrementAndGet();
    }

    /**
     * A caller about to block for what only a reply brings (a free slot) stops counting as one
     * that reads for itself, so the background reader reads meanwhile; returns how many times it
     * counted, for {@link #stepBack}.
     */
    int standAside() {
        Depth d = depth.get();
        int n = d.n;
        if (n > 0) {
            d.n = 0;
            uncount(n);
        }
        return n;
    }

    /** Counts the calling thread back in as often as {@link #standAside} took it out. */
    void stepBack(int n) {
        if (n > 0) {
            depth.get().n += n;
            callers.addAndGet(n);
        }
    }

    /** Waits for {@code call} in this thread, reading replies meanwhile; pairs with a preceding {@link #enter}. */
    <T> T await(CompletableFuture<T> call) {
        try {
            while (!call.isDone() && !stopped) {
                reading.lock();
                try {
                    if (!call.isDone() && !stopped) {
                        readOne();
                    }
                } finally {
                    reading.unlock();
                }
            }
        } finally {
            leave();
        }
        return call.join();
    }

    /** The calling thread no longer reads for itself; the background reader takes over what is left. */
    void leave() {
        depth.get().n--;
        uncount(1);
    }

    /** Takes {@code n} counts of callers away; with none left, the background reader reads what is outstanding. */
    private void uncount(int n) {
        if (callers.addAndGet(-n) == 0 && sink.outstanding()) {
            LockSupport.unpark(background);
        }
    }

    private void backgroundLoop() {
        while (!stopped) {
            if (!sink.outstanding() || callers.get() > 0) {
                idle = true;
                if (!stopped && (!sink.outstanding() || callers.get() > 0)) {
                    LockSupport.park(this);
                }
                idle = false;
                continue;
            }
            reading.lock();
            try {
                if (!stopped && sink.outstanding() && callers.get() == 0) {
                    readOne();
                }
            } finally {
                reading.unlock();
            }
        }
    }

    /** Reads and dispatches one reply; any failure ends the connection (and so every call). */
    private void readOne() {
        try {
            if (!frames.next()) {
                end(NodeException.stackless(Errno.EIO, "connection to " + endpoint + " closed by the node"));
                return;
            }
            Object message = codec.decodeBody(frames.body(), frames.bodyOffset(), frames.bodyLength());
            sink.reply(frames.requestId(), message);
        } catch (MalformedFrameException e) {
            end(new NodeException(Errno.EBADMSG, "connection to " + endpoint + " closed: malformed reply: " + e.getMessage(), e, false));
        } catch (IOException e) {
            end(NodeException.lost(endpoint, e));
        } catch (RuntimeException | Error e) {
            end(new NodeException(Errno.EIO, "connection to " + endpoint + " lost: reader failed: " + e, e, false));
            throw e;
        }
    }

    private void end(NodeException cause) {
        stopped = true;
        sink.closed(cause);
    }
}
