package dionode.node.crash;

import dionode.node.device.AlignedBuffers;
import dionode.node.device.ForwardingNativeIO;
import dionode.node.device.NativeIO;
import dionode.node.device.NativeIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A device with a volatile write cache, for power-cut tests: every pwrite reaches the file at
 * once (so the node reads its own writes), but until the next fdatasync each 512-byte sector it
 * wrote is remembered with all its versions since then. {@link #cut} is the power failure: each
 * such sector ends up holding any one of its versions (the one before the first unflushed write,
 * or any written since), chosen at random and independently, which is what a disk that may
 * persist its cache in any order, sector by sector, allows; from then on every write and flush
 * is silently dropped. A flush makes everything before it durable. Opens, closes, reads,
 * fallocate, flock (a lock is no write: it reaches the kernel even after the cut, as the file's fd
 * does) and the size queries pass straight through ({@link ForwardingNativeIO}). Thread-safe (one
 * lock around every write and flush: slow, but the order is total).
 *
 * <p>A DAX mapping is persistent memory behind volatile CPU caches: {@link #mmap} gives a private
 * copy-on-write view of the file, so stores into it reach the file only when {@link #msync}
 * writes the flushed range back (as pwrites this twin tracks) and flushes. A cut loses every
 * store not flushed, and may lose or keep those of an msync it interrupts, like any write before
 * a flush that did not return.
 */
public final class PowerCutIO extends ForwardingNativeIO {
    private static final int SECTOR = 512;
    /** fd -> (sector byte offset -> versions, the first one being the content before). */
    private final Map<Integer, Map<Long, List<byte[]>>> dirty = new HashMap<>();
    private boolean dead;
    /** Sector byte offset -> the number of the write that made each of its versions after the first. */
    private final Map<Long, List<Long>> writers = new HashMap<>();
    private long writeNo;
    private boolean wholeWrites;
    private final List<WriteRange> writeRanges = new ArrayList<>();
    /** Decides, in whole-writes mode, which unflushed writes the cut keeps; null = a coin per write. */
    private WriteFilter keep;

    /** Which unflushed writes survive a cut. */
    @FunctionalInterface
    public interface WriteFilter {
        boolean keep(long offset, long count);
    }

    /** The bytes one unflushed pwrite covered. */
    private record WriteRange(long offset, long count) {
    }
    private long flushes;
    /** DAX mappings: address -> where they map. */
    private final Map<Long, Mapped> mappings = new HashMap<>();

    private record Mapped(int fd, long offset, long length) {
    }

    private long sectorsRolledBack;
    private long sectorsDirtyAtCut;

    public PowerCutIO(NativeIO delegate) {
        super(delegate);
    }

    /** No kernel AIO through this twin: every transfer comes to it as a pwrite or pread, where it tracks what a power cut loses. */
    @Override
    public long ioSetup(int maxEvents) throws NativeIOException {
        throw new NativeIOException("io_setup", null, NativeIOException.ENOSYS, "PowerCutIO tracks pwrite only");
    }

    @Override
    public synchronized long pwrite(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException {
        if (dead) {
            return count;
        }
        if (offset % SECTOR != 0 || count % SECTOR != 0) {
            return delegate.pwrite(fd, directBuf, count, offset);
        }
        ByteBuffer pre = AlignedBuffers.allocateAligned(count);
        pre.limit(count);
        long got = delegate.pread(fd, pre, count, offset);
        Map<Long, List<byte[]>> sectors = dirty.computeIfAbsent(fd, newFd -> new HashMap<>());
        for (int i = 0; i < count / SECTOR; i++) {
            long at = offset + (long) i * SECTOR;
            List<byte[]> versions = sectors.get(at);
            byte[] now = new byte[SECTOR];
            directBuf.get(directBuf.position() + i * SECTOR, now);
            if (versions == null) {
                byte[] old = new byte[SECTOR];
                if (i * SECTOR < got) {
                    pre.get(i * SECTOR, old);
                }
                versions = new ArrayList<>(2);
                versions.add(old);
                sectors.put(at, versions);
            }
            versions.add(now);
            writers.computeIfAbsent(at, newSector -> new ArrayList<>(2)).add(writeNo);
        }
        writeRanges.add(new WriteRange(offset, count));
        writeNo++;
        return delegate.pwrite(fd, directBuf, count, offset);
    }

    /** A private view: stores stay in this process until {@link #msync} writes them back. */
    @Override
    public synchronized long mmap(long length, int prot, int flags, int fd, long offset) throws NativeIOException {
        long address = delegate.mmap(length, prot, (flags & ~NativeIO.MAP_SHARED) | NativeIO.MAP_PRIVATE, fd, offset);
        mappings.put(address, new Mapped(fd, offset, length));
        return address;
    }

    /** Writes the range back to the file and flushes: durable when it returns, unless the cut came first. */
    @Override
    public synchronized void msync(long address, long length, int flags) throws NativeIOException {
        if (dead) {
            return;
        }
        for (Map.Entry<Long, Mapped> m : mappings.entrySet()) {
            long base = m.getKey();
            Mapped mapped = m.getValue();
            if (address >= base && address + length <= base + mapped.length()) {
                ByteBuffer range = new com.sun.jna.Pointer(base).getByteBuffer(address - base, length);
                pwrite(mapped.fd(), range, (int) length, mapped.offset() + (address - base));
                fdatasync(mapped.fd());
                return;
            }
        }
        throw new NativeIOException("msync", null, NativeIOException.EINVAL, "not a mapped range [injected twin]");
    }

    @Override
    public synchronized void munmap(long address, long length) throws NativeIOException {
        mappings.remove(address);
        delegate.munmap(address, length);
    }

    private long cutAtFlush = -1;
    private Random cutRandom;
    private Runnable cutHook;
    private final java.util.concurrent.CountDownLatch cutDone = new java.util.concurrent.CountDownLatch(1);

    /**
     * Arms a cut just before the {@code n}-th flush from now (n &ge; 1): everything written since
     * the previous flush is at risk, the moment a commit record has been written and not flushed.
     */
    public synchronized void cutBeforeFlush(long n, Random rnd, Runnable atCut) {
        cutAtFlush = flushes + n;
        cutRandom = rnd;
        cutHook = atCut;
    }

    /** Waits for a cut armed by {@link #cutBeforeFlush}; false if it did not happen in time. */
    public boolean awaitCut(long millis) throws InterruptedException {
        return cutDone.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void fdatasync(int fd) throws NativeIOException {
        if (dead) {
            return;
        }
        if (cutAtFlush >= 0 && flushes + 1 >= cutAtFlush) {
            cut(cutRandom, cutHook);
            return;
        }
        delegate.fdatasync(fd);
        flushes++;
        Map<Long, List<byte[]>> sectors = dirty.get(fd);
        if (sectors != null) {
            sectors.clear();
        }
        writers.clear();
        writeRanges.clear();
        writeNo = 0;
    }

    /**
     * The power failure: every sector written since the last flush takes one of its versions at
     * random; later writes and flushes are dropped. {@code atCut} runs first, under the lock that
     * orders every write and flush: what it observes happened before the cut (an acknowledgement
     * logged after it may rest on a flush that was dropped).
     */
    public synchronized void cut(Random rnd, Runnable atCut) throws NativeIOException {
        atCut.run();
        dead = true;
        java.util.Set<Long> kept = new java.util.HashSet<>();
        for (long w = 0; w < writeNo; w++) {
            WriteRange range = writeRanges.get((int) w);
            if (keep != null ? keep.keep(range.offset(), range.count()) : rnd.nextBoolean()) {
                kept.add(w);
            }
        }
        ByteBuffer buf = AlignedBuffers.allocateAligned(4096);
        for (Map.Entry<Integer, Map<Long, List<byte[]>>> file : dirty.entrySet()) {
            for (Map.Entry<Long, List<byte[]>> sector : file.getValue().entrySet()) {
                List<byte[]> versions = sector.getValue();
                sectorsDirtyAtCut++;
                int pick;
                if (wholeWrites) {
                    // the latest version whose write was kept; the content before if none was
                    List<Long> writes = writers.get(sector.getKey());
                    pick = 0;
                    for (int v = writes.size() - 1; v >= 0; v--) {
                        if (kept.contains(writes.get(v))) {
                            pick = v + 1;
                            break;
                        }
                    }
                } else {
                    pick = rnd.nextInt(versions.size());
                }
                if (pick == versions.size() - 1) {
                    continue;
                }
                sectorsRolledBack++;
                buf.clear().limit(SECTOR);
                buf.put(0, versions.get(pick));
                delegate.pwrite(file.getKey(), buf, SECTOR, sector.getKey());
            }
            delegate.fdatasync(file.getKey());
        }
        dirty.clear();
        writers.clear();
        writeRanges.clear();
        cutDone.countDown();
    }

    /**
     * How the cut treats unflushed writes: true = each write (pwrite call) persists whole or not at
     * all, independently of the others (a disk reordering its cache); false = each sector
     * independently takes any of its versions (a disk that may also tear writes).
     */
    public synchronized PowerCutIO wholeWrites(boolean whole) {
        wholeWrites = whole;
        return this;
    }

    /** Whole-writes mode with a fixed choice of survivors instead of a coin per write. */
    public synchronized PowerCutIO keepOnly(WriteFilter filter) {
        wholeWrites = true;
        keep = filter;
        return this;
    }

    public synchronized long sectorsRolledBack() {
        return sectorsRolledBack;
    }

    public synchronized long sectorsDirtyAtCut() {
        return sectorsDirtyAtCut;
    }

    public synchronized long flushes() {
        return flushes;
    }

}
