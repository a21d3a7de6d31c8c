package dionode.node.device;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.lang.ref.Reference;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link NativeIO} on Linux x86_64 through JNA direct mapping ({@code Native.register}).
 *
 * <p>Direct mapping, not an interface proxy: a proxy call costs reflection and
 * argument boxing per call, and the device path makes tens of thousands of
 * calls a second. Buffers go to libc as raw addresses ({@link BufferAddress}),
 * so pread/pwrite allocate nothing unless they fail. errno is read with
 * {@link Native#getLastError()} only after a -1 return.
 *
 * <p>Thread-safe. Each instance remembers the path of the fds it opened so that
 * errors can name the file; that lookup only happens on the error path.
 */
public final class JnaNativeIO implements NativeIO {

    // Linux ioctl numbers: BLKSSZGET = _IO(0x12,104), BLKGETSIZE64 = _IOR(0x12,114,size_t).
    static final long BLKSSZGET = 0x1268L;
    static final long BLKGETSIZE64 = 0x80081272L;

    /** Size of struct stat on x86_64 glibc, and the offsets of the fields we read. */
    private static final int STAT_SIZE = 144;
    private static final int ST_MODE = 24;
    private static final int ST_SIZE = 48;
    private static final int ST_BLKSIZE = 56;
    private static final int ST_BLOCKS = 64;

    /** A zero struct timespec, only ever read by the kernel: io_getevents that does not wait. */
    private static final Memory NO_WAIT = zeroTimespec();

    /** mmap's (void *) -1. */
    private static final long MAP_FAILED = -1L;

    private static final int AIO_RING_MAGIC = 0xa10a10a1;
    private static final int AIO_RING_HEADER = 32;
    private static final int EVENT_BYTES = 32;
    private static final VarHandle RING_WORD = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    /** Each open AIO context's completion ring as a buffer over the kernel's mapping (empty: a layout not known here). */
    private final ConcurrentHashMap<Long, ByteBuffer> rings = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, String> paths = new ConcurrentHashMap<>();

    /**
     * @throws UnsupportedOperationException off Linux x86_64: flag values, ioctl
     *         numbers and the struct stat layout here are that platform's
     */
    public JnaNativeIO() {
        if (!Platform.isLinux() || !Platform.is64Bit() || !"x86-64".equals(Platform.ARCH)) {
            throw new UnsupportedOperationException(
                    "JnaNativeIO supports Linux x86_64 only (this is " + Platform.ARCH + ", os type " + Platform.getOSType() + ")");
        }
        LibC.ensureLoaded();
    }

    @Override
    public int open(String path, int flags, int mode) throws NativeIOException {
        int fd;
        int err;
        do {
            fd = LibC.open(path, flags, mode);
            err = fd < 0 ? Native.getLastError() : 0;
        } while (fd < 0 && err == NativeIOException.EINTR);
        if (fd < 0) {
            throw new NativeIOException("open", path, err, "flags=0" + Integer.toOctalString(flags));
        }
        paths.put(fd, path);
        return fd;
    }

    @Override
    public void close(int fd) throws NativeIOException {
        // Forget the path before the fd number can be reused by another open.
        String path = paths.remove(fd);
        if (LibC.close(fd) != 0) {
            throw new NativeIOException("close", path, Native.getLastError(), "fd=" + fd);
        }
    }

    @Override
    public long pread(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException {
        checkBuffer(directBuf, count, true);
        long address = BufferAddress.of(directBuf) + directBuf.position();
        long n;
        int err;
        try {
            do {
                n = LibC.pread(fd, address, count, offset);
                err = n < 0 ? Native.getLastError() : 0;
            } while (n < 0 && err == NativeIOException.EINTR);
        } finally {
            // We pass a bare address: without this the buffer could be collected,
            // and its memory freed, while the kernel is still writing into it.
            Reference.reachabilityFence(directBuf);
        }
        if (n < 0) {
            throw transferError("pread", fd, err, count, offset);
        }
        return n;
    }

    @Override
    public long pwrite(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException {
        checkBuffer(directBuf, count, false);
        long address = BufferAddress.of(directBuf) + directBuf.position();
        long n;
        int err;
        try {
            do {
                n = LibC.pwrite(fd, address, count, offset);
                err = n < 0 ? Native.getLastError() : 0;
            } while (n < 0 && err == NativeIOException.EINTR);
        } finally {
            Reference.reachabilityFence(directBuf);
        }
        if (n < 0) {
            throw transferError("pwrite", fd, err, count, offset);
        }
        return n;
    }

    @Override
    public void fdatasync(int fd) throws NativeIOException {
        int r;
        int err;
        do {
            r = LibC.fdatasync(fd);
            err = r != 0 ? Native.getLastError() : 0;
        } while (r != 0 && err == NativeIOException.EINTR);
        if (r != 0) {
            throw new NativeIOException("fdatasync", paths.get(fd), err, "fd=" + fd);
        }
    }

    @Override
    public long mmap(long length, int prot, int flags, int fd, long offset) throws NativeIOException {
        long address = LibC.mmap(0, length, prot, flags, fd, offset);
        if (address == MAP_FAILED) {
            throw new NativeIOException("mmap", paths.get(fd), Native.getLastError(),
                    "fd=" + fd + ", length=" + length + ", offset=" + offset + ", prot=" + prot + ", flags=" + flags);
        }
        return address;
    }

    @Override
    public void msync(long address, long length, int flags) throws NativeIOException {
        int r;
        int err;
        do {
            r = LibC.msync(address, length, flags);
            err = r != 0 ? Native.getLastError() : 0;
        } while (r != 0 && err == NativeIOException.EINTR);
        if (r != 0) {
            throw new NativeIOException("msync", null, err, "address=0x" + Long.toHexString(address) + ", length=" + length);
        }
    }

    @Override
    public void munmap(long address, long length) throws NativeIOException {
        if (LibC.munmap(address, length) != 0) {
            throw new NativeIOException("munmap", null, Native.getLastError(),
                    "address=0x" + Long.toHexString(address) + ", length=" + length);
        }
    }

    @Override
    public void fallocate(int fd, int mode, long offset, long length) throws NativeIOException {
        int r;
        int err;
        do {
            r = LibC.fallocate(fd, mode, offset, length);
            err = r != 0 ? Native.getLastError() : 0;
        } while (r != 0 && err == NativeIOException.EINTR);
        if (r != 0) {
            throw new NativeIOException("fallocate", paths.get(fd), err,
                    "fd=" + fd + ", mode=0x" + Integer.toHexString(mode) + ", offset=" + offset + ", length=" + length);
        }
    }

    @Override
    public void flock(int fd, int operation) throws NativeIOException {
        int r;
        int err;
        do {
            r = LibC.flock(fd, operation);
            err = r != 0 ? Native.getLastError() : 0;
        } while (r != 0 && err == NativeIOException.EINTR);
        if (r != 0) {
            throw new NativeIOException("flock", paths.get(fd), err, "fd=" + fd + ", operation=" + operation);
        }
    }

    @Override
    public long blockDeviceSize(int fd) throws NativeIOException {
        try (Memory out = new Memory(8)) {
            if (LibC.ioctl(fd, BLKGETSIZE64, out) != 0) {
                throw new NativeIOException("ioctl", paths.get(fd), Native.getLastError(), "fd=" + fd + ", BLKGETSIZE64");
            }
            return out.getLong(0);
        }
    }

    @Override
    public int blockDeviceSectorSize(int fd) throws NativeIOException {
        try (Memory out = new Memory(4)) {
            if (LibC.ioctl(fd, BLKSSZGET, out) != 0) {
                throw new NativeIOException("ioctl", paths.get(fd), Native.getLastError(), "fd=" + fd + ", BLKSSZGET");
            }
            return out.getInt(0);
        }
    }

    @Override
    public FileStat fstat(int fd) throws NativeIOException {
        try (Memory st = new Memory(STAT_SIZE)) {
            st.clear();
            if (LibC.fstat(fd, st) != 0) {
                throw new NativeIOException("fstat", paths.get(fd), Native.getLastError(), "fd=" + fd);
            }
            return new FileStat(st.getInt(ST_MODE), st.getLong(ST_SIZE), st.getLong(ST_BLOCKS), st.getLong(ST_BLKSIZE));
        }
    }

    // x86_64 system call numbers: glibc has no wrappers for kernel AIO (libaio's are its own library).
    private static final long SYS_IO_SETUP = 206;
    private static final long SYS_IO_DESTROY = 207;
    private static final long SYS_IO_GETEVENTS = 208;
    private static final long SYS_IO_SUBMIT = 209;

    @Override
    public long ioSetup(int maxEvents) throws NativeIOException {
        try (Memory context = new Memory(8)) {
            context.setLong(0, 0);
            if (LibC.syscall(SYS_IO_SETUP, maxEvents, Pointer.nativeValue(context), 0, 0, 0) != 0) {
                throw new NativeIOException("io_setup", null, Native.getLastError(), "nr_events=" + maxEvents);
            }
            return context.getLong(0);
        }
    }

    @Override
    public int ioSubmit(long context, long iocbPointers, int count) throws NativeIOException {
        long n;
        int err;
        do {
            n = LibC.syscall(SYS_IO_SUBMIT, context, count, iocbPointers, 0, 0);
            err = n < 0 ? Native.getLastError() : 0;
        } while (n < 0 && err == NativeIOException.EINTR);
        if (n < 0) {
            throw new NativeIOException("io_submit", null, err, "nr=" + count);
        }
        return (int) n;
    }

    @Override
    public int ioGetEvents(long context, int minEvents, int maxEvents, long events, long timeoutNanos) throws NativeIOException {
        if (timeoutNanos == 0) {
            return getEvents(context, minEvents, maxEvents, events, NO_WAIT); // the event loop's reaping: nothing allocated
        }
        try (Memory timeout = new Memory(16)) {
            timeout.setLong(0, timeoutNanos / 1_000_000_000L);
            timeout.setLong(8, timeoutNanos % 1_000_000_000L);
            return getEvents(context, minEvents, maxEvents, events, timeout);
        }
    }

    private static int getEvents(long context, int minEvents, int maxEvents, long events, Memory timeout) throws NativeIOException {
        long n;
        int err;
        do {
            n = LibC.syscall(SYS_IO_GETEVENTS, context, minEvents, maxEvents, events, Pointer.nativeValue(timeout));
            err = n < 0 ? Native.getLastError() : 0;
        } while (n < 0 && err == NativeIOException.EINTR);
        Reference.reachabilityFence(timeout);
        if (n < 0) {
            throw new NativeIOException("io_getevents", null, err, "min_nr=" + minEvents + ", nr=" + maxEvents);
        }
        return (int) n;
    }

    /**
     * The kernel's {@code struct aio_ring} (fs/aio.c), mapped at the context's address:
     * <pre>
     *   0  u32 id     4  u32 nr (events the ring holds)   8  u32 head (ours to advance)
     *  12  u32 tail (the kernel's)   16  u32 magic 0xa10a10a1   20  u32 compat_features
     *  24  u32 incompat_features (0)   28  u32 header_length (32)
     *  32  struct io_event[nr], 32 bytes each
     * </pre>
     * A ring of another layout is read with io_getevents instead.
     */
    @Override
    public int ioPeekEvents(long context, int maxEvents, ByteBuffer events) throws NativeIOException {
        ByteBuffer ring = rings.computeIfAbsent(context, JnaNativeIO::mappedRing);
        if (ring.capacity() == 0) {
            return NativeIO.super.ioPeekEvents(context, maxEvents, events);
        }
        int nr = ring.getInt(4);
        int head = ring.getInt(8);
        int tail = (int) RING_WORD.getAcquire(ring, 12); // the events before tail are written before it moves
        int n = 0;
        while (head != tail && n < maxEvents) {
            int from = AIO_RING_HEADER + head * EVENT_BYTES;
            for (int w = 0; w < EVENT_BYTES; w += Long.BYTES) {
                events.putLong(n * EVENT_BYTES + w, ring.getLong(from + w));
            }
            head = (head + 1) % nr;
            n++;
        }
        if (n > 0) {
            RING_WORD.setRelease(ring, 8, head); // the slots are free for the kernel once we have read them
        }
        return n;
    }

    private static ByteBuffer mappedRing(long context) {
        ByteBuffer header = new Pointer(context).getByteBuffer(0, AIO_RING_HEADER).order(ByteOrder.nativeOrder());
        if (header.getInt(16) != AIO_RING_MAGIC || header.getInt(24) != 0 || header.getInt(28) != AIO_RING_HEADER) {
            return ByteBuffer.allocate(0);
        }
        long bytes = AIO_RING_HEADER + (long) header.getInt(4) * EVENT_BYTES;
        return new Pointer(context).getByteBuffer(0, bytes).order(ByteOrder.nativeOrder());
    }

    @Override
    public void ioDestroy(long context) throws NativeIOException {
        rings.remove(context);
        if (LibC.syscall(SYS_IO_DESTROY, context, 0, 0, 0, 0) != 0) {
            throw new NativeIOException("io_destroy", null, Native.getLastError(), "");
        }
    }

    private static Memory zeroTimespec() {
        Memory m = new Memory(16);
        m.clear();
        return m;
    }

    private NativeIOException transferError(String syscall, int fd, int errno, int count, long offset) {
        return new NativeIOException(syscall, paths.get(fd), errno, "fd=" + fd + ", count=" + count + ", offset=" + offset);
    }

    static void checkBuffer(ByteBuffer buf, int count, boolean intoBuffer) {
        if (!buf.isDirect()) {
            throw new IllegalArgumentException("buffer must be direct for native I/O");
        }
        if (intoBuffer && buf.isReadOnly()) {
            throw new IllegalArgumentException("cannot read into a read-only buffer");
        }
        if (count < 0 || count > buf.remaining()) {
            throw new IllegalArgumentException("count " + count + " outside 0.." + buf.remaining() + " (buffer remaining)");
        }
    }

    /** libc, bound once per JVM. Pointers are passed as {@code long} (64-bit on x86_64). */
    private static final class LibC {
        static {
            Native.register(LibC.class, "c");
        }

        static void ensureLoaded() {
            // Running the static initialiser is the point.
        }

        static native int open(String path, int flags, int mode);

        static native int close(int fd);

        static native long pread(int fd, long buf, long count, long offset);

        static native long pwrite(int fd, long buf, long count, long offset);

        static native int fdatasync(int fd);

        static native int fallocate(int fd, int mode, long offset, long len);

        static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

        static native int msync(long addr, long length, int flags);

        static native int munmap(long addr, long length);

        static native int ioctl(int fd, long request, Pointer arg);

        static native int flock(int fd, int operation);

        // glibc >= 2.33 exports fstat (before, only __fxstat): Debian 12 has 2.36.
        static native int fstat(int fd, Pointer statbuf);

        // syscall(2) is variadic; glibc's is assembly that reads its arguments from registers, so a fixed-arity mapping is sound on x86_64.
        static native long syscall(long number, long a1, long a2, long a3, long a4, long a5);
    }
}
