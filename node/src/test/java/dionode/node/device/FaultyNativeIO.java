package dionode.node.device;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A {@link NativeIO} that forwards to a real one and injects device failures on
 * request: the node's whole fault-injection framework for device tests (the
 * BookKeeper habit, DESIGN.md section 8).
 *
 * <pre>{@code
 * FaultyNativeIO io = new FaultyNativeIO(new JnaNativeIO());
 * io.failAfter(Op.PWRITE, 2, NativeIOException.EIO);        // 3rd pwrite from now fails, once
 * io.failAlwaysAfter(Op.FDATASYNC, 0, EIO);                 // the device is gone for flushes
 * io.failWritesOverlapping(4096, 8192, EIO);                // a bad stretch of media
 * io.limitTransfer(Op.PREAD, 512);                          // short reads
 * io.dropWritesAfter(10);                                   // power cut after 10 more writes
 * io.reset();                                               // transparent again
 * }</pre>
 *
 * <p>Counting starts when a fault is armed: {@code failAfter(op, n, e)} lets the
 * next {@code n} calls of {@code op} through and fails the one after. Injected
 * failures are {@link NativeIOException}s with the chosen errno and
 * {@code [injected]} in the message. Checks run in this order: hook, countdown,
 * range, power cut, transfer limit, then the real call.
 *
 * <p>Thread-safe: faults are armed, consumed and cleared atomically, so tests may
 * (re)configure from any thread while I/O threads are running.
 */
public final class FaultyNativeIO extends ForwardingNativeIO {

    /** The injectable operations. */
    public enum Op { OPEN, PREAD, PWRITE, FDATASYNC, FALLOCATE, FLOCK, MMAP, MSYNC }

    /**
     * Runs before every intercepted call (after counting it): a test can block
     * here on a latch to order I/O against something else, or throw to fail the call.
     */
    @FunctionalInterface
    public interface Hook {
        void beforeCall(Op op, int fd, long offset, int count) throws NativeIOException;
    }

    private static final int OPS = Op.values().length;

    private final ConcurrentHashMap<Integer, String> paths = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<Countdown> countdowns = new AtomicReferenceArray<>(OPS);
    private final AtomicReferenceArray<RangeFault> ranges = new AtomicReferenceArray<>(OPS);
    private final AtomicReferenceArray<Integer> limits = new AtomicReferenceArray<>(OPS);
    private final AtomicReference<Countdown> powerCut = new AtomicReference<>();
    private final AtomicReference<Hook> hook = new AtomicReference<>();
    private final AtomicLongArray calls = new AtomicLongArray(OPS);
    private final AtomicLong injected = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    public FaultyNativeIO(NativeIO delegate) {
        super(delegate);
    }

    // ---- arming faults ------------------------------------------------------------------

    /** Lets {@code okCalls} more calls of {@code op} through, fails the next one with {@code errno}, then heals. */
    public FaultyNativeIO failAfter(Op op, int okCalls, int errno) {
        countdowns.set(op.ordinal(), new Countdown(okCalls, errno, false));
        return this;
    }

    /** Lets {@code okCalls} more calls of {@code op} through, then fails every later one (a dead device). */
    public FaultyNativeIO failAlwaysAfter(Op op, int okCalls, int errno) {
        countdowns.set(op.ordinal(), new Countdown(okCalls, errno, true));
        return this;
    }

    /**
     * Fails every {@code op} call ({@link Op#PREAD} or {@link Op#PWRITE}) whose byte
     * range overlaps {@code [from, to)}, until cleared; other calls pass.
     */
    public FaultyNativeIO failOverlapping(Op op, long from, long to, int errno) {
        requireTransfer(op);
        if (from < 0 || to <= from) {
            throw new IllegalArgumentException("empty or negative range [" + from + ", " + to + ")");
        }
        ranges.set(op.ordinal(), new RangeFault(from, to, errno));
        return this;
    }

    /** {@link #failOverlapping} for pwrite: a bad stretch of media. */
    public FaultyNativeIO failWritesOverlapping(long from, long to, int errno) {
        return failOverlapping(Op.PWRITE, from, to, errno);
    }

    /**
     * Caps every {@code op} transfer ({@link Op#PREAD} or {@link Op#PWRITE}) at
     * {@code maxBytes}, producing short transfers; 0 makes them return 0 without I/O.
     * Keep it a multiple of the sector size, or O_DIRECT will answer EINVAL.
     */
    public FaultyNativeIO limitTransfer(Op op, int maxBytes) {
        requireTransfer(op);
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes < 0: " + maxBytes);
        }
        limits.set(op.ordinal(), maxBytes);
        return this;
    }

    /**
     * Simulates a power cut: {@code okCalls} more pwrites reach the device; from
     * then on every pwrite and fdatasync reports success and does nothing. Reopen
     * the device through a fresh wrapper to see what survived.
     */
    public FaultyNativeIO dropWritesAfter(int okCalls) {
        powerCut.set(new Countdown(okCalls, 0, true));
        return this;
    }

    /** Installs (or with {@code null} removes) the hook run before every intercepted call. */
    public FaultyNativeIO hook(Hook newHook) {
        hook.set(newHook);
        return this;
    }

    /** Clears the countdown, range and transfer-limit faults of one operation. */
    public FaultyNativeIO clear(Op op) {
        countdowns.set(op.ordinal(), null);
        ranges.set(op.ordinal(), null);
        limits.set(op.ordinal(), null);
        return this;
    }

    /** Back to a transparent wrapper: all faults, the hook and all counters cleared. */
    public void reset() {
        for (int i = 0; i < OPS; i++) {
            countdowns.set(i, null);
            ranges.set(i, null);
            limits.set(i, null);
            calls.set(i, 0);
        }
        powerCut.set(null);
        hook.set(null);
        injected.set(0);
        dropped.set(0);
    }

    // ---- counters -----------------------------------------------------------------------

    /** Calls of {@code op} seen since construction or {@link #reset()}, failed ones included. */
    public long calls(Op op) {
        return calls.get(op.ordinal());
    }

    /** Failures injected since construction or {@link #reset()}. */
    public long injectedFailures() {
        return injected.get();
    }

    /** pwrites silently dropped by {@link #dropWritesAfter}. */
    public long droppedWrites() {
        return dropped.get();
    }

    // ---- NativeIO: the intercepted calls (the others pass through ForwardingNativeIO) -------

    /** No kernel AIO through this twin: every transfer comes to it as a pwrite or pread, where it injects its faults. */
    @Override
    public long ioSetup(int maxEvents) throws NativeIOException {
        throw new NativeIOException("io_setup", null, NativeIOException.ENOSYS, "FaultyNativeIO injects faults into pwrite and pread only");
    }

    @Override
    public int open(String path, int flags, int mode) throws NativeIOException {
        before(Op.OPEN, path, -1, 0, 0);
        int fd = delegate.open(path, flags, mode);
        paths.put(fd, path);
        return fd;
    }

    @Override
    public void close(int fd) throws NativeIOException {
        paths.remove(fd);
        delegate.close(fd);
    }

    @Override
    public long pread(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException {
        before(Op.PREAD, null, fd, offset, count);
        int allowed = limited(Op.PREAD, count);
        if (allowed == 0 && count > 0) {
            return 0;
        }
        return delegate.pread(fd, directBuf, allowed, offset);
    }

    @Override
    public long pwrite(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException {
        before(Op.PWRITE, null, fd, offset, count);
        Countdown cut = powerCut.get();
        if (cut != null && cut.hit()) {
            JnaNativeIO.checkBuffer(directBuf, count, false);
            dropped.incrementAndGet();
            return count;
        }
        int allowed = limited(Op.PWRITE, count);
        if (allowed == 0 && count > 0) {
            return 0;
        }
        return delegate.pwrite(fd, directBuf, allowed, offset);
    }

    @Override
    public void fdatasync(int fd) throws NativeIOException {
        before(Op.FDATASYNC, null, fd, 0, 0);
        Countdown cut = powerCut.get();
        if (cut != null && cut.tripped()) {
            return;
        }
        delegate.fdatasync(fd);
    }

    @Override
    public void fallocate(int fd, int mode, long offset, long length) throws NativeIOException {
        before(Op.FALLOCATE, null, fd, offset, (int) Math.min(length, Integer.MAX_VALUE));
        delegate.fallocate(fd, mode, offset, length);
    }

    @Override
    public void flock(int fd, int operation) throws NativeIOException {
        before(Op.FLOCK, null, fd, 0, 0);
        delegate.flock(fd, operation);
    }

    @Override
    public long mmap(long length, int prot, int flags, int fd, long offset) throws NativeIOException {
        before(Op.MMAP, null, fd, offset, (int) Math.min(length, Integer.MAX_VALUE));
        return delegate.mmap(length, prot, flags, fd, offset);
    }

    /** A DAX flush: counted and failed like fdatasync (it has no fd; a range fault is over the mapping's addresses). */
    @Override
    public void msync(long address, long length, int flags) throws NativeIOException {
        before(Op.MSYNC, null, -1, address, (int) Math.min(length, Integer.MAX_VALUE));
        delegate.msync(address, length, flags);
    }

    // ---- internals ----------------------------------------------------------------------

    private void before(Op op, String path, int fd, long offset, int count) throws NativeIOException {
        int slot = op.ordinal();
        calls.incrementAndGet(slot);
        Hook installed = hook.get();
        if (installed != null) {
            installed.beforeCall(op, fd, offset, count);
        }
        Countdown countdown = countdowns.get(slot);
        if (countdown != null && countdown.hit()) {
            if (!countdown.sticky) {
                countdowns.compareAndSet(slot, countdown, null);
            }
            throw injectedError(op, path, fd, countdown.errno, offset, count);
        }
        RangeFault range = ranges.get(slot);
        if (range != null && count > 0 && offset < range.to && offset + count > range.from) {
            throw injectedError(op, path, fd, range.errno, offset, count);
        }
    }

    private int limited(Op op, int count) {
        Integer limit = limits.get(op.ordinal());
        return limit == null ? count : Math.min(count, limit);
    }

    private NativeIOException injectedError(Op op, String path, int fd, int errno, long offset, int count) {
        injected.incrementAndGet();
        String file = path != null ? path : paths.get(fd);
        String detail;
        if (op == Op.OPEN) {
            detail = "[injected]";
        } else if (op == Op.FDATASYNC || op == Op.FLOCK || op == Op.MSYNC) {
            detail = "fd=" + fd + " [injected]";
        } else {
            detail = "fd=" + fd + ", count=" + count + ", offset=" + offset + " [injected]";
        }
        return new NativeIOException(syscall(op), file, errno, detail);
    }

    private static String syscall(Op op) {
        switch (op) {
            case OPEN: return "open";
            case PREAD: return "pread";
            case PWRITE: return "pwrite";
            case FDATASYNC: return "fdatasync";
            case FALLOCATE: return "fallocate";
            case FLOCK: return "flock";
            case MMAP: return "mmap";
            case MSYNC: return "msync";
            default: throw new AssertionError(op);
        }
    }

    private static void requireTransfer(Op op) {
        if (op != Op.PREAD && op != Op.PWRITE) {
            throw new IllegalArgumentException(op + " has no byte range or transfer size; use PREAD or PWRITE");
        }
    }

    /** Lets {@code okCalls} calls pass, then hits once (or forever if sticky). */
    private static final class Countdown {
        private final AtomicLong remaining;
        final int errno;
        final boolean sticky;

        Countdown(int okCalls, int errno, boolean sticky) {
            if (okCalls < 0) {
                throw new IllegalArgumentException("okCalls < 0: " + okCalls);
            }
            this.remaining = new AtomicLong(okCalls);
            this.errno = errno;
            this.sticky = sticky;
        }

        boolean hit() {
            // Floors at -1: exactly one caller sees 0, later ones see -1.
            long before = remaining.getAndUpdate(left -> left >= 0 ? left - 1 : left);
            return before == 0 || (before < 0 && sticky);
        }

        boolean tripped() {
            return remaining.get() < 0;
        }
    }

    private record RangeFault(long from, long to, int errno) {
    }
}
