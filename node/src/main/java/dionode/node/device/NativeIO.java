package dionode.node.device;

import java.nio.ByteBuffer;

/**
 * The node's one narrow native I/O interface (after Apache BookKeeper's
 * {@code NativeIO}): everything that needs libc goes through here, so that
 * everything above it can be tested against a fault-injecting twin
 * ({@code FaultyNativeIO} and {@code PowerCutIO}, in the tests).
 *
 * <p>Calls map one to one onto Linux system calls and fail with a
 * {@link NativeIOException} carrying the errno. Flag and ioctl values are the
 * Linux x86_64 ones. Buffers passed to {@link #pread}/{@link #pwrite} must be
 * direct; the transfer starts at the buffer's position, and neither position
 * nor limit is changed (positional I/O from many threads must not race on
 * buffer state).
 *
 * <p>Implementations must be thread-safe.
 */
public interface NativeIO {
    /** open(2) flags, Linux x86_64 values. */
    int O_RDONLY = 0;
    int O_WRONLY = 01;
    int O_RDWR = 02;
    int O_CREAT = 0100;
    int O_EXCL = 0200;
    int O_TRUNC = 01000;
    int O_DSYNC = 010000;
    int O_DIRECT = 040000;
    int O_CLOEXEC = 02000000;

    /** fallocate(2) modes. */
    int FALLOC_FL_KEEP_SIZE = 0x01;
    int FALLOC_FL_PUNCH_HOLE = 0x02;
    int FALLOC_FL_ZERO_RANGE = 0x10;

    /** flock(2) operations. */
    int LOCK_SH = 1;
    int LOCK_EX = 2;
    int LOCK_NB = 4;
    int LOCK_UN = 8;

    /** mmap(2) protections and flags, msync(2) flags. */
    int PROT_READ = 1;
    int PROT_WRITE = 2;
    int MAP_SHARED = 1;
    int MAP_PRIVATE = 2;
    int MS_SYNC = 4;

    /** Mode used by {@link #open(String, int)} when it creates a file. */
    int DEFAULT_CREATE_MODE = 0644;

    /** open(2) with {@link #DEFAULT_CREATE_MODE}; returns the fd. */
    default int open(String path, int flags) throws NativeIOException {
        return open(path, flags, DEFAULT_CREATE_MODE);
    }

    /** open(2); {@code mode} only matters with {@link #O_CREAT}. Returns the fd. */
    int open(String path, int flags, int mode) throws NativeIOException;

    /** close(2). Never retried: on Linux the fd is gone even when close reports an error. */
    void close(int fd) throws NativeIOException;

    /**
     * pread(2) of {@code count} bytes into {@code directBuf} starting at its position.
     *
     * @return bytes read; 0 at end of file; may be short
     * @throws IllegalArgumentException if the buffer is not direct, is read-only,
     *         or has fewer than {@code count} bytes remaining
     */
    long pread(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException;

    /**
     * pwrite(2) of {@code count} bytes from {@code directBuf} starting at its position.
     *
     * @return bytes written; may be short
     * @throws IllegalArgumentException if the buffer is not direct or has fewer
     *         than {@code count} bytes remaining
     */
    long pwrite(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException;

    /** fdatasync(2): on a block device this flushes the device's volatile write cache. */
    void fdatasync(int fd) throws NativeIOException;

    /** fallocate(2); {@code mode} is 0 or a combination of the FALLOC_FL_ constants. */
    void fallocate(int fd, int mode, long offset, long length) throws NativeIOException;

    /** ioctl(BLKGETSIZE64): a block device's size in bytes. ENOTTY on a regular file. */
    long blockDeviceSize(int fd) throws NativeIOException;

    /** ioctl(BLKSSZGET): a block device's logical sector size. ENOTTY on a regular file. */
    int blockDeviceSectorSize(int fd) throws NativeIOException;

    /**
     * flock(2): an advisory whole-file lock held by the open file description, so two opens of
     * one file conflict even within one process; it goes away when the fd is closed or the
     * process dies. With {@link #LOCK_NB} a held lock fails at once with EWOULDBLOCK
     * ({@link NativeIOException#EWOULDBLOCK}).
     */
    void flock(int fd, int operation) throws NativeIOException;

    /** fstat(2), reduced to what the node needs. */
    FileStat fstat(int fd) throws NativeIOException;

    /**
     * mmap(2) of {@code length} bytes of {@code fd} from {@code offset} (a multiple of the page
     * size), at an address the kernel chooses. The DAX files' view of the device (DESIGN §4).
     *
     * @return the mapping's address
     */
    long mmap(long length, int prot, int flags, int fd, long offset) throws NativeIOException;

    /**
     * msync(2) of {@code [address, address + length)}; {@code address} must be page aligned. With
     * {@link #MS_SYNC} the range is on the media when it returns (for a mapped device file the
     * host file system's fsync of the range, device cache flush included).
     */
    void msync(long address, long length, int flags) throws NativeIOException;

    /** munmap(2). Any access to the range afterwards faults the process. */
    void munmap(long address, long length) throws NativeIOException;

    /**
     * io_setup(2): a kernel AIO context for up to {@code maxEvents} requests in flight. A
     * NativeIO that cannot (or, for a test twin that must see every transfer as a pwrite or
     * pread, will not) do kernel AIO throws ENOSYS: the device then does all its I/O with
     * {@link #pwrite} and {@link #pread} on the I/O threads.
     */
    long ioSetup(int maxEvents) throws NativeIOException;

    /**
     * io_submit(2) of {@code count} control blocks, whose addresses are the {@code count} longs
     * at {@code iocbPointers} (native memory the caller keeps alive until each completes).
     *
     * @return how many the kernel took, from the first; EAGAIN when it took none for want of resources
     */
    int ioSubmit(long context, long iocbPointers, int count) throws NativeIOException;

    /**
     * io_getevents(2): waits until at least {@code minEvents} requests complete or
     * {@code timeoutNanos} pass, then writes up to {@code maxEvents} 32-byte {@code struct
     * io_event} at {@code events}.
     *
     * @return the number of events written (0 on timeout); EINTR is retried
     */
    int ioGetEvents(long context, int minEvents, int maxEvents, long events, long timeoutNanos) throws NativeIOException;

    /**
     * Takes up to {@code maxEvents} completed events into {@code events} (direct, as {@link
     * #ioGetEvents} writes them) without waiting, and where it can without a system call (the
     * kernel's completion ring is mapped at the context's address). Only one thread may take
     * events of a context at a time. The default is {@code io_getevents} with no wait, which is
     * what a test twin sees.
     *
     * @return the number of events taken (0: none completed)
     */
    default int ioPeekEvents(long context, int maxEvents, ByteBuffer events) throws NativeIOException {
        return ioGetEvents(context, 0, maxEvents, BufferAddress.of(events), 0);
    }

    /** io_destroy(2): cancels what it can, waits for the rest, frees the context. */
    void ioDestroy(long context) throws NativeIOException;

    /**
     * The part of {@code struct stat} the node uses. Immutable.
     *
     * @param mode      {@code st_mode}: file type and permission bits
     * @param size      {@code st_size}: 0 for a block device (use {@link #blockDeviceSize})
     * @param blocks    {@code st_blocks}: allocated 512-byte units
     * @param blockSize {@code st_blksize}: the preferred I/O size
     */
    record FileStat(int mode, long size, long blocks, long blockSize) {
        static final int S_IFMT = 0170000;
        static final int S_IFBLK = 0060000;
        static final int S_IFREG = 0100000;

        public boolean isBlockDevice() {
            return (mode & S_IFMT) == S_IFBLK;
        }

        public boolean isRegularFile() {
            return (mode & S_IFMT) == S_IFREG;
        }

        /** Bytes the filesystem has allocated ({@code st_blocks * 512}): less than size means sparse. */
        public long allocatedBytes() {
            return blocks * 512L;
        }
    }
}
