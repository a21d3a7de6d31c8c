package dionode.node.device;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kernel AIO on one O_DIRECT fd: the caller's thread submits a read or write with {@code
 * io_submit} and {@code RWF_NOWAIT} and goes on (no thread is woken to do it). Completions are
 * learnt one of two ways:
 * <ul>
 * <li>a completion thread ({@code dionode-aio}) waits in {@code io_getevents} and completes each
 * request's future;
 * <li>with a {@link CompletionSignal}, the kernel signals an eventfd ({@code IOCB_FLAG_RESFD}) and
 * the event loop watching it reaps without waiting and completes the futures on its own thread,
 * so a completion wakes no thread but the loop's; the {@code dionode-aio} thread then only
 * finishes what needs a blocking transfer.
 * </ul>
 * A request the kernel would have had to block for (EAGAIN, at submission or as its result) is
 * not submitted, or is finished on the {@code dionode-aio} thread with a plain blocking transfer:
 * the submitting thread and the loop never block, and nothing waits in a queue beyond the ring's
 * depth.
 *
 * <p>Native memory, drawn from {@code include/uapi/linux/aio_abi.h} (x86_64, little-endian):
 * <pre>
 * struct iocb (64 bytes, one per slot)         struct io_event (32 bytes)
 *   0  u64 aio_data        the slot number       0  u64 data   the slot number
 *   8  u32 aio_key         0                     8  u64 obj    the iocb's address
 *  12  u32 aio_rw_flags    RWF_NOWAIT           16  s64 res    bytes done, or -errno
 *  16  u16 aio_lio_opcode  0 PREAD, 1 PWRITE    24  s64 res2
 *  18  s16 aio_reqprio     0
 *  20  u32 aio_fildes      the device fd
 *  24  u64 aio_buf         buffer address
 *  32  u64 aio_nbytes      length
 *  40  s64 aio_offset      device offset
 *  48  u64 aio_reserved2   0
 *  56  u32 aio_flags       IOCB_FLAG_RESFD with a signal, else 0
 *  60  u32 aio_resfd       the signal's eventfd, else 0
 * </pre>
 *
 * <p>On an event loop (with a signal), submissions are gathered per loop pass ({@link Batch}) and
 * enter the kernel in one {@code io_submit} before the loop polls: one system call, and one plug,
 * so the block layer kicks the device once for the lot instead of once per request. What the
 * kernel refuses of a batch is finished with a blocking transfer like any EAGAIN, never dropped.
 *
 * <p>Thread-safe: any thread may submit. A slot is claimed by CAS, so submitters never wait for
 * each other; the iocb of a claimed slot is written only by its claimant and read by the kernel.
 * A batch is confined to its loop's thread.
 */
final class AioRing implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AioRing.class);
    static final int DEFAULT_DEPTH = 128;
    private static final int IOCB_BYTES = 64;
    private static final int EVENT_BYTES = 32;
    private static final int EVENTS_PER_WAIT = 64;
    private static final int RWF_NOWAIT = 0x8;
    private static final short IOCB_CMD_PREAD = 0;
    private static final short IOCB_CMD_PWRITE = 1;
    private static final long WAIT_NANOS = 200_000_000L;
    private static final long CLOSING_WAIT_NANOS = 10_000_000L;
    private static final int IOCB_FLAG_RESFD = 1;

    /** How a request the kernel could not finish without blocking is finished instead (on the completion thread). */
    @FunctionalInterface
    interface BlockingTransfer {
        void transfer(boolean write, long offset, ByteBuffer buf, int length) throws IOException;
    }

    private record Pending(boolean write, long offset, ByteBuffer buf, int length, CompletableFuture<Void> done) {
    }

    /** A completion the loop hands to the dionode-aio thread: it needs a blocking transfer to finish. */
    private record Unfinished(Pending pending, long result) {
    }

    private final NativeIO io;
    private final int fd;
    private final String path;
    private final long context;
    private final int depth;
    private final BlockingTransfer fallback;
    private final DeviceTraffic traffic;
    private final ByteBuffer iocbs;
    private final ByteBuffer pointers;
    private final ByteBuffer events;
    /** The eventfd and loop completions come through, or null: the completion thread waits for them. */
    private final CompletionSignal signal;
    /** Held while completions are taken from the kernel with a signal: by the loop (tried only) or the closer. */
    private final ReentrantLock reaping = new ReentrantLock();
    /** With a signal: completions for the dionode-aio thread to finish; one per slot at most, so never full. */
    private final ArrayBlockingQueue<Unfinished> unfinished;
    private final AtomicReferenceArray<Pending> slots;
    private final AtomicInteger hint = new AtomicInteger();
    /** Requests between the start of a submission and the end of their completion: close waits for 0. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Thread completer;
    private volatile boolean closing;
    /** Each loop thread's batch of iocbs written and not yet submitted. */
    private final ThreadLocal<Batch> batches = ThreadLocal.withInitial(Batch::new);

    /** The slots one loop pass submitted, in order, and the pointer array io_submit reads. Loop-confined. */
    private final class Batch {
        final ByteBuffer pointers = ByteBuffer.allocateDirect(depth * Long.BYTES).order(ByteOrder.nativeOrder());
        final int[] slots = new int[depth];
        final Runnable flush = this::flush;
        int count;

        /** Adds a written slot; false when no loop will flush it (the caller submits it at once). */
        boolean add(int slot) {
            if (count == 0 && !signal.deferToPoll(flush)) {
                return false;
            }
            pointers.putLong(count * Long.BYTES, iocbAddress(slot));
            slots[count++] = slot;
            return true;
        }

        void flush() {
            int n = count;
            count = 0;
            // what the kernel did not take (EAGAIN, or an error the blocking transfer will report) is finished that way
            int taken = closing ? 0 : ioSubmit(pointers, 0, n);
            for (int i = taken; i < n; i++) {
                completed(slots[i], -NativeIOException.EAGAIN, true);
            }
        }
    }

    private AioRing(NativeIO io, int fd, String path, long context, int depth, BlockingTransfer fallback, CompletionSignal signal,
            DeviceTraffic traffic) {
        this.io = io;
        this.traffic = traffic;
        this.fd = fd;
        this.path = path;
        this.context = context;
        this.depth = depth;
        this.fallback = fallback;
        this.iocbs = ByteBuffer.allocateDirect(depth * IOCB_BYTES).order(ByteOrder.nativeOrder());
        this.pointers = ByteBuffer.allocateDirect(depth * Long.BYTES).order(ByteOrder.nativeOrder());
        this.events = ByteBuffer.allocateDirect(EVENTS_PER_WAIT * EVENT_BYTES).order(ByteOrder.nativeOrder());
        for (int slot = 0; slot < depth; slot++) {
            pointers.putLong(slot * Long.BYTES, iocbAddress(slot));
        }
        this.slots = new AtomicReferenceArray<>(depth);
        this.signal = signal;
        this.unfinished = signal == null ? null : new ArrayBlockingQueue<>(depth);
        this.completer = new Thread(signal == null ? this::completeLoop : this::finishLoop, "dionode-aio");
        this.completer.setDaemon(true);
    }

    /**
     * A ring on {@code fd}, or null when {@code io} offers no kernel AIO (the device then uses its
     * I/O threads). With {@code signal} (may be null) completions come through it; the ring closes
     * it.
     */
    static AioRing open(NativeIO io, int fd, String path, int depth, BlockingTransfer fallback, CompletionSignal signal,
            DeviceTraffic traffic) {
        long context;
        try {
            context = io.ioSetup(depth);
        } catch (NativeIOException e) {
            LOG.info("{}: no kernel AIO ({}): device I/O runs on the I/O threads", path, e.getMessage());
            if (signal != null) {
                signal.close();
            }
            return null;
        }
        AioRing ring = new AioRing(io, fd, path, context, depth, fallback, signal, traffic);
        ring.completer.start();
        if (signal != null) {
            signal.onSignal(ring::reap);
        }
        return ring;
    }

    /**
     * Submits a transfer of {@code length} bytes at {@code buf}'s position; the future completes
     * on the completion thread. Null when it cannot be submitted now (the ring is closing, every
     * slot is taken, the kernel refused it): nothing was done, the caller transfers another way.
     */
    CompletableFuture<Void> submit(boolean write, long offset, ByteBuffer buf, int length) {
        inFlight.incrementAndGet();
        if (closing) {
            inFlight.decrementAndGet();
            return null;
        }
        Pending pending = new Pending(write, offset, buf, length, new CompletableFuture<>());
        int slot = claim(pending);
        if (slot < 0) {
            inFlight.decrementAndGet();
            return null;
        }
        int at = slot * IOCB_BYTES;
        iocbs.putLong(at, slot);
        iocbs.putInt(at + 8, 0);
        iocbs.putInt(at + 12, RWF_NOWAIT);
        iocbs.putShort(at + 16, write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD);
        iocbs.putShort(at + 18, (short) 0);
        iocbs.putInt(at + 20, fd);
        iocbs.putLong(at + 24, BufferAddress.of(buf) + buf.position());
        iocbs.putLong(at + 32, length);
        iocbs.putLong(at + 40, offset);
        iocbs.putLong(at + 48, 0);
        iocbs.putInt(at + 56, signal == null ? 0 : IOCB_FLAG_RESFD);
        iocbs.putInt(at + 60, signal == null ? 0 : signal.eventFd());
        if (signal != null && batches.get().add(slot)) {
            return pending.done();
        }
        // not taken: EAGAIN (no room in the kernel, or it would block) or worse, which the caller's own transfer will say
        if (ioSubmit(pointers, slot, 1) != 1) {
            slots.set(slot, null);
            inFlight.decrementAndGet();
            return null;
        }
        return pending.done();
    }

    /**
     * io_submit of the {@code n} iocbs whose addresses {@code array} holds from entry {@code first}:
     * how many the kernel took, 0 when it refused the first.
     */
    private int ioSubmit(ByteBuffer array, int first, int n) {
        try {
            return Math.max(0, io.ioSubmit(context, BufferAddress.of(array) + (long) first * Long.BYTES, n));
        } catch (NativeIOException e) {
            return 0;
        } finally {
            Reference.reachabilityFence(array);
        }
    }

    private long iocbAddress(int slot) {
        return BufferAddress.of(iocbs) + (long) slot * IOCB_BYTES;
    }

    private int claim(Pending pending) {
        int start = Math.floorMod(hint.getAndIncrement(), depth);
        for (int i = 0; i < depth; i++) {
            int slot = (start + i) % depth;
            if (slots.get(slot) == null && slots.compareAndSet(slot, null, pending)) {
                return slot;
            }
        }
        return -1;
    }

    private void completeLoop() {
        long eventsAddress = BufferAddress.of(events);
        try {
            while (!closing || inFlight.get() > 0) {
                int n = io.ioGetEvents(context, 1, EVENTS_PER_WAIT, eventsAddress, WAIT_NANOS);
                completed(events, n, false);
            }
        } catch (NativeIOException | RuntimeException e) {
            LOG.error("{}: kernel AIO completions failed; failing what is in flight: {}", path, e.toString());
            closing = true;
        } finally {
            release();
        }
    }

    /**
     * On the loop, each time the kernel signals: takes what has completed, without waiting and,
     * where the kernel's mapped completion ring allows, without a system call ({@link
     * NativeIO#ioPeekEvents}, as libaio reads it). Reaping is exclusive
     * ({@link #reaping}): two readers of the ring could hand one event out twice, and a slot reused
     * meanwhile would take the stale one. The loop only tries, and leaves it to the closer.
     */
    private void reap() {
        if (!reaping.tryLock()) {
            return; // the ring is closing and its closer reaps
        }
        try {
            int n;
            do {
                n = io.ioPeekEvents(context, EVENTS_PER_WAIT, events);
                completed(events, n, true);
            } while (n == EVENTS_PER_WAIT);
        } catch (NativeIOException | RuntimeException e) {
            LOG.error("{}: reaping kernel AIO completions failed: {}", path, e.toString());
        } finally {
            reaping.unlock();
        }
    }

    /** The {@code n} completions in {@code from}, as {@link #completed(int, long, boolean)}. */
    private void completed(ByteBuffer from, int n, boolean handOff) {
        for (int i = 0; i < n; i++) {
            completed((int) from.getLong(i * EVENT_BYTES), from.getLong(i * EVENT_BYTES + 16), handOff);
        }
    }

    /**
     * A completion: finished here, or, when {@code handOff} and it needs a blocking transfer, by
     * the dionode-aio thread.
     */
    private void completed(int slot, long result, boolean handOff) {
        Pending pending = slots.getAndSet(slot, null);
        if (pending == null) {
            return;
        }
        if (handOff && needsTransfer(pending, result)) {
            unfinished.add(new Unfinished(pending, result));
        } else {
            finish(pending, result);
            inFlight.decrementAndGet();
        }
    }

    /** With a signal, the dionode-aio thread: finishes what the loop handed over, until the ring is closed and empty. */
    private void finishLoop() {
        try {
            ByteBuffer closingEvents = ByteBuffer.allocateDirect(EVENTS_PER_WAIT * EVENT_BYTES).order(ByteOrder.nativeOrder());
            while (!closing || inFlight.get() > 0) {
                Unfinished u = closing ? unfinished.poll() : unfinished.poll(WAIT_NANOS, TimeUnit.NANOSECONDS);
                if (u != null) {
                    finish(u.pending(), u.result());
                    inFlight.decrementAndGet();
                } else if (closing) {
                    // the loop no longer reaps: what the kernel still holds is reaped here (its own buffer: a last reap may still run)
                    reaping.lock(); // a last reap of the loop's may still be running
                    try {
                        int n = io.ioGetEvents(context, 1, EVENTS_PER_WAIT, BufferAddress.of(closingEvents), CLOSING_WAIT_NANOS);
                        completed(closingEvents, n, false);
                    } finally {
                        reaping.unlock();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (NativeIOException | RuntimeException e) {
            LOG.error("{}: kernel AIO completions failed; failing what is in flight: {}", path, e.toString());
        } finally {
            release();
        }
    }

    /** The completion thread's end: frees the kernel context (waiting for what it still holds) and fails what is left. */
    private void release() {
        try {
            io.ioDestroy(context); // waits for whatever the kernel still holds
        } catch (NativeIOException e) {
            LOG.debug("{}: io_destroy: {}", path, e.getMessage());
        }
        failAll(); // nothing after a clean close; after a failure, what was submitted as the ring stopped
        while (unfinished != null && !unfinished.isEmpty()) {
            Unfinished u = unfinished.poll();
            u.pending().done().completeExceptionally(stoppedBefore(u.pending()));
        }
    }

    /** Short, or EAGAIN (the kernel would have blocked): the rest needs a blocking transfer. */
    private static boolean needsTransfer(Pending p, long result) {
        return result != p.length() && (result >= 0 || result == -NativeIOException.EAGAIN);
    }

    /** A request's end: done whole, finished by a blocking transfer (the kernel would have blocked, or did part), or failed. */
    private void finish(Pending p, long result) {
        if (needsTransfer(p, result)) {
            int done = (int) Math.max(0, result);
            try {
                ByteBuffer rest = p.buf().duplicate();
                rest.position(p.buf().position() + done);
                fallback.transfer(p.write(), p.offset() + done, rest, p.length() - done);
                traffic.moved(p.write(), p.length());
                p.done().complete(null);
            } catch (IOException | RuntimeException e) {
                p.done().completeExceptionally(e);
            }
        } else if (result == p.length()) {
            traffic.moved(p.write(), p.length());
            p.done().complete(null);
        } else {
            p.done().completeExceptionally(new NativeIOException(p.write() ? "pwrite" : "pread", path, (int) -result,
                    "count=" + p.length() + ", offset=" + p.offset() + " (kernel AIO)"));
        }
    }

    private void failAll() {
        for (int slot = 0; slot < depth; slot++) {
            Pending pending = slots.getAndSet(slot, null);
            if (pending != null) {
                pending.done().completeExceptionally(stoppedBefore(pending));
                inFlight.decrementAndGet();
            }
        }
    }

    private NativeIOException stoppedBefore(Pending p) {
        return new NativeIOException(p.write() ? "pwrite" : "pread", path, NativeIOException.EIO,
                "kernel AIO stopped before this request's completion was read");
    }

    /** Takes no more requests, waits for those in flight to complete, frees the kernel context. */
    @Override
    public void close() {
        closing = true;
        if (signal != null) {
            signal.close(); // completions from now on are reaped by the dionode-aio thread, waiting
        }
        try {
            completer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
