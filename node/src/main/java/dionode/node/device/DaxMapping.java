package dionode.node.device;

import com.sun.jna.Pointer;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device's data area mapped shared into the process, as persistent memory is (DESIGN §4): DAX
 * files read and write their blocks by copying to and from it, and a write is durable once its
 * range is flushed ({@code msync(MS_SYNC)}: the stores leave the page cache for the media, as
 * {@code dax_flush} writes back CPU caches). Addressed by device byte offset, like the block I/O.
 *
 * <p>Every call blocks (a copy may fault a page in, a flush writes it back): callers that must not
 * block (actors) run the large ones on the I/O executor. A copy outside the mapping would fault the
 * process, so each range is checked first and refused with an exception.
 *
 * <p>Thread-safe: copies and flushes hold a shared lock that {@link #close()} takes exclusively, so
 * the mapping is never unmapped under a copy in flight.
 */
public final class DaxMapping implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(DaxMapping.class);
    /** msync wants page-aligned addresses; mmap offsets must be too. */
    public static final int PAGE = 4096;

    private final NativeIO io;
    private final String device;
    private final long address;
    private final Pointer base;
    private final long from;
    private final long length;
    private final ReentrantReadWriteLock closeLock = new ReentrantReadWriteLock();
    private boolean closed; // guarded by closeLock

    private DaxMapping(NativeIO io, String device, long address, long from, long length) {
        this.io = io;
        this.device = device;
        this.address = address;
        this.base = new Pointer(address);
        this.from = from;
        this.length = length;
    }

    /** Maps {@code [from, from + length)} of {@code fd} shared, readable and writable. */
    static DaxMapping map(NativeIO io, int fd, String device, long from, long length) throws NativeIOException {
        if (from % PAGE != 0 || length <= 0) {
            throw new IllegalArgumentException("a DAX mapping starts on a page and is not empty: from " + from + ", length " + length);
        }
        long address = io.mmap(length, NativeIO.PROT_READ | NativeIO.PROT_WRITE, NativeIO.MAP_SHARED, fd, from);
        LOG.info("mapped {} bytes {}..{} of {} for DAX files", length, from, from + length, device);
        return new DaxMapping(io, device, address, from, length);
    }

    /** First device byte mapped. */
    public long from() {
        return from;
    }

    /** Bytes mapped. */
    public long length() {
        return length;
    }

    /** Copies {@code len} bytes of {@code src} from {@code off} into the mapping at device byte {@code at}. */
    public void write(long at, byte[] src, int off, int len) throws IOException {
        closeLock.readLock().lock();
        try {
            base.write(offsetOf(at, len), src, off, len);
        } finally {
            closeLock.readLock().unlock();
        }
    }

    /** Copies {@code len} bytes at device byte {@code at} out of the mapping into {@code dst} at {@code off}. */
    public void read(long at, byte[] dst, int off, int len) throws IOException {
        closeLock.readLock().lock();
        try {
            base.read(offsetOf(at, len), dst, off, len);
        } finally {
            closeLock.readLock().unlock();
        }
    }

    /** Stores zeros over {@code [at, at + len)} (not yet durable: {@link #flush} it). */
    public void zero(long at, long len) throws IOException {
        closeLock.readLock().lock();
        try {
            base.setMemory(offsetOf(at, len), len, (byte) 0);
        } finally {
            closeLock.readLock().unlock();
        }
    }

    /** Makes {@code [at, at + len)} durable: msync(MS_SYNC) of the pages holding it. */
    public void flush(long at, long len) throws IOException {
        closeLock.readLock().lock();
        try {
            long start = offsetOf(at, len) / PAGE * PAGE;
            long end = (at - from + len + PAGE - 1) / PAGE * PAGE;
            io.msync(address + start, Math.min(end, length) - start, NativeIO.MS_SYNC);
        } finally {
            closeLock.readLock().unlock();
        }
    }

    /** The offset of {@code [at, at + len)} in the mapping; the range must lie inside it. Under the read lock. */
    private long offsetOf(long at, long len) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        long off = at - from;
        if (off < 0 || len < 0 || off > length - len) {
            throw new IOException("DAX access to bytes " + at + ".." + (at + len) + " of " + device + " is outside the mapped data area "
                    + from + ".." + (from + length));
        }
        return off;
    }

    /** Waits for copies in flight, then unmaps. Later calls fail with {@link ClosedChannelException}. Idempotent. */
    @Override
    public void close() throws IOException {
        closeLock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            io.munmap(address, length);
            LOG.info("unmapped the DAX mapping of {}", device);
        } finally {
            closeLock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "DaxMapping[" + device + ", " + from + ".." + (from + length) + "]";
    }
}
