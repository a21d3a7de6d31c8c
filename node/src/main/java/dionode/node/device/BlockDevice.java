package dionode.node.device;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's device, opened {@code O_DIRECT}: a block device or a fully written
 * device file. Positional I/O only, in whole sectors, from sector-aligned memory.
 *
 * <p>The sector size is what O_DIRECT really accepts, not the filesystem block
 * size (deps.md: {@code FileChannel} with {@code ExtendedOpenOption.DIRECT} insists
 * on 4096 where the disk takes 512): {@code BLKSSZGET} for a block device; for a
 * file, the smallest of 512, 1024, 2048, 4096 that an aligned pread accepts.
 *
 * <p>Thread-safe: any number of reads, writes and flushes may run at once. They
 * hold a shared lock that {@link #close()} takes exclusively, so the fd is never
 * closed (and its number reused by another open) under an I/O in flight.
 */
public final class BlockDevice implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(BlockDevice.class);

    /** Sector sizes probed on a device file, smallest first. */
    private static final int[] PROBE_SIZES = {512, 1024, 2048, 4096};
    private static final int MAX_SECTOR_SIZE = 64 << 10;

    private final Path path;
    private final String pathString;
    private final NativeIO io;
    private final int fd;
    private final long size;
    private final int sectorSize;
    private final boolean blockDevice;
    private final ReentrantReadWriteLock closeLock = new ReentrantReadWriteLock();
    private boolean closed; // guarded by closeLock

    /** Kernel AIO on the fd, or null when the NativeIO has none: then every transfer is a blocking call. */
    private final AioRing aio;
    private final DeviceTraffic traffic = new DeviceTraffic();

    private BlockDevice(Path path, NativeIO io, int fd, long size, int sectorSize, boolean blockDevice, CompletionSignal signal) {
        this.path = path;
        this.pathString = path.toString();
        this.io = io;
        this.fd = fd;
        this.size = size;
        this.sectorSize = sectorSize;
        this.blockDevice = blockDevice;
        this.aio = AioRing.open(io, fd, pathString, AioRing.DEFAULT_DEPTH, this::transfer, signal, traffic);
    }

    /**
     * Opens {@code path} with {@code O_RDWR|O_DIRECT|O_CLOEXEC}, exclusively: a device file is
     * locked with {@code flock(LOCK_EX|LOCK_NB)}, a block device is opened with {@code O_EXCL}
     * (which Linux gives that meaning only for block devices). The claim lasts until
     * {@link #close()} or the process dies, and a second open fails at once, even in this process
     * (the lock belongs to the open file description).
     *
     * @param sectorSizeOverride 0 to detect; otherwise a power of two from 512 to
     *        65536 that the device must accept (it is checked)
     * @throws DeviceInUseException if another open holds the device
     * @throws NativeIOException with EINVAL and an explanation if the filesystem refuses O_DIRECT
     * @throws IOException if the path is neither a block device nor a regular file,
     *         or is too small to hold one sector
     */
    public static BlockDevice open(Path path, NativeIO io, int sectorSizeOverride) throws IOException {
        return open(path, io, sectorSizeOverride, null);
    }

    /**
     * {@link #open(Path, NativeIO, int)}, with kernel AIO completions coming through {@code
     * completions} (an event loop's eventfd; null: a thread of the device's own waits for them).
     * The device owns the signal from now on, and closes it even if the open fails.
     */
    public static BlockDevice open(Path path, NativeIO io, int sectorSizeOverride, CompletionSignal completions) throws IOException {
        try {
            return openWith(path, io, sectorSizeOverride, completions);
        } catch (IOException | RuntimeException e) {
            if (completions != null) {
                completions.close();
            }
            throw e;
        }
    }

    private static BlockDevice openWith(Path path, NativeIO io, int sectorSizeOverride, CompletionSignal completions) throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(io, "io");
        if (sectorSizeOverride != 0 && (sectorSizeOverride < 512 || sectorSizeOverride > MAX_SECTOR_SIZE
                || Integer.bitCount(sectorSizeOverride) != 1)) {
            throw new IllegalArgumentException("sector size override must be 0 (detect) or a power of two in 512.."
                    + MAX_SECTOR_SIZE + ": " + sectorSizeOverride);
        }
        String p = path.toString();
        int fd = openDirect(io, p, 0);
        try {
            NativeIO.FileStat st = io.fstat(fd);
            long bytes;
            int sector;
            if (st.isBlockDevice()) {
                int exclusive = openDirect(io, p, NativeIO.O_EXCL);
                int shared = fd;
                fd = exclusive;
                io.close(shared);
                bytes = io.blockDeviceSize(fd);
                int logical = io.blockDeviceSectorSize(fd);
                if (sectorSizeOverride != 0 && sectorSizeOverride < logical) {
                    throw new IllegalArgumentException("sector size override " + sectorSizeOverride
                            + " is below " + p + "'s logical sector size " + logical);
                }
                sector = sectorSizeOverride != 0 ? sectorSizeOverride : logical;
            } else if (st.isRegularFile()) {
                lock(io, fd, p);
                bytes = st.size();
                sector = sectorSizeOverride != 0
                        ? checkedOverride(io, fd, p, bytes, sectorSizeOverride)
                        : detectSectorSize(io, fd, p, bytes);
                warnIfUnfit(path, st);
            } else {
                throw new IOException(p + " is neither a block device nor a regular file (st_mode 0"
                        + Integer.toOctalString(st.mode()) + ")");
            }
            long usable = bytes - bytes % sector;
            if (usable < sector) {
                throw new IOException(p + " is too small for a device: " + bytes + " bytes, sector " + sector);
            }
            BlockDevice dev = new BlockDevice(path, io, fd, usable, sector, st.isBlockDevice(), completions);
            LOG.info("opened {} O_DIRECT: {} bytes, sector {} ({}{})", p, usable, sector,
                    st.isBlockDevice() ? "block device" : "device file",
                    sectorSizeOverride != 0 ? ", sector size overridden" : "");
            return dev;
        } catch (IOException | RuntimeException e) {
            try {
                io.close(fd);
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    private static int openDirect(NativeIO io, String p, int extraFlags) throws NativeIOException {
        try {
            return io.open(p, NativeIO.O_RDWR | NativeIO.O_DIRECT | NativeIO.O_CLOEXEC | extraFlags);
        } catch (NativeIOException e) {
            if (e.errno() == NativeIOException.EINVAL) {
                throw oDirectRefused(p);
            }
            if (e.errno() == NativeIOException.EBUSY && (extraFlags & NativeIO.O_EXCL) != 0) {
                // bd_prepare_to_claim: another O_EXCL holder, or the kernel has it mounted
                throw new DeviceInUseException("open", p, e.errno());
            }
            throw e;
        }
    }

    /** Takes the device file's exclusive flock without waiting: a second node must fail, not queue. */
    private static void lock(NativeIO io, int fd, String p) throws NativeIOException {
        try {
            io.flock(fd, NativeIO.LOCK_EX | NativeIO.LOCK_NB);
        } catch (NativeIOException e) {
            if (e.errno() == NativeIOException.EWOULDBLOCK) {
                throw new DeviceInUseException("flock", p, e.errno());
            }
            throw e;
        }
    }

    /** The error for a filesystem that will not open a file with O_DIRECT. */
    static NativeIOException oDirectRefused(String path) {
        return NativeIOException.withMessage("open", path, NativeIOException.EINVAL,
                "cannot open " + path + " with O_DIRECT: the filesystem refuses O_DIRECT (tmpfs does)."
                        + " Put the device file on a disk filesystem (ext4, xfs) or use a block device.");
    }

    /** Usable size in bytes: a whole number of sectors. */
    public long size() {
        return size;
    }

    /** Alignment required of offsets, lengths and buffer addresses. */
    public int sectorSize() {
        return sectorSize;
    }

    public Path path() {
        return path;
    }

    /** True for a block device, false for a device file. */
    public boolean isBlockDevice() {
        return blockDevice;
    }

    /**
     * Reads exactly {@code buf.remaining()} bytes at {@code offset} into {@code buf}
     * from its position. Position and limit are left unchanged.
     *
     * @throws IllegalArgumentException if the buffer is not direct, or offset, length
     *         or the address at the buffer's position is not a multiple of the sector size
     * @throws NativeIOException EIO if the range runs past the device end or the device
     *         returns no data before the end; other errnos as the kernel reports them
     */
    public void read(long offset, ByteBuffer buf) throws IOException {
        int len = checkRange(false, offset, buf);
        transfer(false, offset, buf, len);
        traffic.moved(false, len);
    }

    /**
     * Writes exactly {@code buf.remaining()} bytes from {@code buf}'s position at
     * {@code offset}. Position and limit are left unchanged. Not durable until {@link #flush()}.
     *
     * @throws IllegalArgumentException as for {@link #read}
     * @throws NativeIOException ENOSPC if the range runs past the device end; EIO if the
     *         device accepts no data before the end; other errnos as the kernel reports them
     */
    public void write(long offset, ByteBuffer buf) throws IOException {
        int len = checkRange(true, offset, buf);
        transfer(true, offset, buf, len);
        traffic.moved(true, len);
    }

    /**
     * Starts a write as {@link #write} would make it, without blocking the calling thread: the
     * future completes once it is done (on the kernel AIO completion thread). The buffer must stay
     * untouched until then.
     *
     * @return null when it cannot be started that way now (no kernel AIO, all of it in use, or
     *         the kernel would have to block): nothing was written, use {@link #write}
     * @throws IllegalArgumentException and NativeIOException ENOSPC as {@link #write}
     */
    public CompletableFuture<Void> writeAsync(long offset, ByteBuffer buf) throws IOException {
        int len = checkRange(true, offset, buf);
        return aio == null || len == 0 ? null : aio.submit(true, offset, buf, len);
    }

    /** {@link #read} without blocking the calling thread, as {@link #writeAsync} is to {@link #write}. */
    public CompletableFuture<Void> readAsync(long offset, ByteBuffer buf) throws IOException {
        int len = checkRange(false, offset, buf);
        return aio == null || len == 0 ? null : aio.submit(false, offset, buf, len);
    }

    /** The bytes this device has read and written, whichever way. */
    public DeviceTraffic traffic() {
        return traffic;
    }

    /** Whether {@link #writeAsync} and {@link #readAsync} can start transfers at all. */
    public boolean hasAsync() {
        return aio != null;
    }

    /**
     * Maps {@code [from, size())} shared for DAX files. A device file can always be mapped; a
     * block device only when its queue says it supports DAX ({@code /sys/class/block/NAME/queue/dax}
     * is 1, as for a pmem device): otherwise its mapping would be the page cache over block I/O.
     *
     * @throws IOException saying why the device cannot be mapped, in the user's terms
     */
    public DaxMapping mapDax(long from) throws IOException {
        if (blockDevice) {
            String why = blockDeviceDaxRefusal(path);
            if (why != null) {
                throw new IOException(why);
            }
        }
        closeLock.readLock().lock();
        try {
            ensureOpen();
            return DaxMapping.map(io, fd, pathString, from, size - from);
        } catch (NativeIOException e) {
            throw new IOException("cannot map " + pathString + " for DAX files: " + e.getMessage(), e);
        } finally {
            closeLock.readLock().unlock();
        }
    }

    /** Why a block device offers no DAX, or null when its queue says it does. */
    private static String blockDeviceDaxRefusal(Path device) {
        Path real;
        try {
            real = device.toRealPath();
        } catch (IOException e) {
            return "cannot resolve block device " + device + ": " + e.getMessage();
        }
        Path flag = Path.of("/sys/class/block", real.getFileName().toString(), "queue", "dax");
        String value;
        try {
            value = Files.readString(flag).trim();
        } catch (IOException e) {
            value = "missing";
        }
        return "1".equals(value) ? null : "block device " + device + " does not support DAX (" + flag + " is " + value
                + "): DAX files need a device file or a persistent-memory device";
    }

    /** fdatasync: makes completed writes durable (flushes the disk's write cache). */
    public void flush() throws IOException {
        closeLock.readLock().lock();
        try {
            ensureOpen();
            io.fdatasync(fd);
        } finally {
            closeLock.readLock().unlock();
        }
    }

    /** Waits for I/O in flight, then closes the fd. Later calls fail with {@link ClosedChannelException}. Idempotent. */
    @Override
    public void close() throws IOException {
        if (aio != null) {
            aio.close(); // before the lock: its completion thread may still finish a transfer under the read lock
        }
        closeLock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            io.close(fd);
            LOG.info("closed {}", pathString);
        } finally {
            closeLock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "BlockDevice[" + pathString + ", " + size + " bytes, sector " + sectorSize
                + (blockDevice ? ", block device]" : ", file]");
    }

    private void transfer(boolean write, long offset, ByteBuffer buf, int len) throws IOException {
        if (len == 0) {
            return;
        }
        closeLock.readLock().lock();
        try {
            ensureOpen();
            ByteBuffer cur = buf;
            int done = 0;
            while (true) {
                int want = len - done;
                long n = write ? io.pwrite(fd, cur, want, offset + done) : io.pread(fd, cur, want, offset + done);
                if (n <= 0 || n > want) {
                    throw new NativeIOException(write ? "pwrite" : "pread", pathString, NativeIOException.EIO,
                            "count=" + want + ", offset=" + (offset + done) + ": transferred " + n
                                    + " bytes with " + want + " to go");
                }
                done += (int) n;
                if (done == len) {
                    return;
                }
                // Short transfer (rare): continue on a view so the caller's position stays put.
                if (cur == buf) {
                    cur = buf.duplicate();
                }
                cur.position(buf.position() + done);
            }
        } finally {
            closeLock.readLock().unlock();
        }
    }

    /** The transfer's length, once aligned and inside the device: a write past the end is ENOSPC, a read EIO. */
    private int checkRange(boolean write, long offset, ByteBuffer buf) throws NativeIOException {
        int len = checkAligned(offset, buf);
        if (offset > size - len) {
            throw new NativeIOException(write ? "pwrite" : "pread", pathString, write ? NativeIOException.ENOSPC : NativeIOException.EIO,
                    "count=" + len + ", offset=" + offset + ": past the device end " + size);
        }
        return len;
    }

    private int checkAligned(long offset, ByteBuffer buf) {
        if (!buf.isDirect()) {
            throw new IllegalArgumentException("O_DIRECT needs a direct buffer (use AlignedBuffers)");
        }
        int len = buf.remaining();
        int mask = sectorSize - 1;
        if (offset < 0 || (offset & mask) != 0) {
            throw new IllegalArgumentException("offset " + offset + " is not a non-negative multiple of the sector size " + sectorSize);
        }
        if ((len & mask) != 0) {
            throw new IllegalArgumentException("length " + len + " is not a multiple of the sector size " + sectorSize);
        }
        long address = BufferAddress.of(buf) + buf.position();
        if ((address & mask) != 0) {
            throw new IllegalArgumentException("buffer address 0x" + Long.toHexString(address)
                    + " (at position " + buf.position() + ") is not aligned to the sector size " + sectorSize);
        }
        return len;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    private static int detectSectorSize(NativeIO io, int fd, String path, long fileSize) throws IOException {
        if (fileSize < 2L * PROBE_SIZES[PROBE_SIZES.length - 1]) {
            throw new IOException("cannot detect the O_DIRECT alignment of " + path + ": only " + fileSize
                    + " bytes; make it at least 8192 bytes or pass a sector size");
        }
        for (int candidate : PROBE_SIZES) {
            if (accepts(io, fd, path, candidate)) {
                return candidate;
            }
        }
        throw new IOException(path + " accepts no O_DIRECT alignment up to " + PROBE_SIZES[PROBE_SIZES.length - 1]
                + " bytes; pass a larger sector size");
    }

    private static int checkedOverride(NativeIO io, int fd, String path, long fileSize, int override) throws IOException {
        if (fileSize >= 2L * override && !accepts(io, fd, path, override)) {
            throw new IllegalArgumentException("sector size override " + override + " is rejected by O_DIRECT on " + path);
        }
        return override;
    }

    /**
     * Whether an O_DIRECT pread of {@code candidate} bytes at offset {@code candidate}
     * into memory aligned to {@code candidate} (and deliberately not to twice that)
     * is accepted. The offset is not 0 because 0 is aligned to everything. The file
     * must hold at least {@code 2 * candidate} bytes: ext4 answers a read at end of
     * file before it checks alignment.
     */
    private static boolean accepts(NativeIO io, int fd, String path, int candidate) throws IOException {
        ByteBuffer buf = AlignedBuffers.allocateAligned(2 * candidate, 2 * candidate);
        buf.position(candidate);
        try {
            long n = io.pread(fd, buf, candidate, candidate);
            if (n != candidate) {
                throw new IOException("probing O_DIRECT alignment of " + path + ": read " + n + " of " + candidate + " bytes");
            }
            return true;
        } catch (NativeIOException e) {
            if (e.errno() == NativeIOException.EINVAL) {
                return false;
            }
            throw e;
        }
    }

    private static void warnIfUnfit(Path path, NativeIO.FileStat st) {
        if (st.allocatedBytes() < st.size()) {
            LOG.warn("device file {} is sparse ({} of {} bytes allocated): the host filesystem will allocate under"
                    + " our writes and serialize them; create it with DeviceFiles.createFullyWritten",
                    path, st.allocatedBytes(), st.size());
        }
        try {
            if ("tmpfs".equals(Files.getFileStore(path).type())) {
                LOG.warn("device file {} is on tmpfs: this kernel accepts O_DIRECT there, but the data lives in RAM"
                        + " and does not survive a reboot", path);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not read the file store of {}", path, e);
        }
    }
}
