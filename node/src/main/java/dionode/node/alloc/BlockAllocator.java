package dionode.node.alloc;

import dionode.node.journal.Handle;
import dionode.node.journal.Sealer;
import dionode.node.meta.Bytes;
import dionode.node.meta.Layout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The block allocator shared by all inodes (ext4's mballoc, much simplified): on-device bitmap
 * blocks, logged through the journal, and an in-memory copy in longs that also holds blocks whose
 * freeing is not yet safe to reuse: data blocks until the freeing transaction commits (a crash
 * must never show a block in another file while the old owner's extent still points to it), and
 * extent-node blocks until the journal is checkpointed (replay must never write an old node image
 * over a block that became file data; jbd2 uses revoke records for this).
 *
 * <p>It also holds blocks back for extent nodes (ext4's reserved clusters): each file with
 * unwritten blocks has a reservation covering every node its conversions to written can still need
 * ({@code ConversionReserve}); ordinary allocations never touch reserved blocks, and a conversion's
 * node allocation ({@link #allocateNode}, EXT4_GET_BLOCKS_METADATA_NOFAIL) may use its file's
 * reservation when nothing else is free. Invariant: reserved blocks never exceed free ones.
 *
 * <p>Thread-safe: every method runs under the journal's metadata lock (callers hold a handle; the
 * deferred releases take the lock), and nothing here does I/O, so actors are never blocked on a
 * device.
 */
public final class BlockAllocator {

    /** A run of blocks. Immutable. */
    public record Run(long start, long len) {
        public long end() {
            return start + len;
        }
    }

    private static final int CRC_OFFSET = Layout.BLOCK_SIZE - 4;
    private final Layout layout;
    private final byte[][] bitmaps;
    private final long[] inUse;
    private final ReentrantLock lock;
    private volatile long free;
    /** Guarded by {@code lock}. */
    private long releasing;
    /** Per inode, blocks held back for its conversions; changed under {@code lock}, read without it. */
    private final Map<Long, Long> reservations = new ConcurrentHashMap<>();
    /** The sum of {@link #reservations}; changed under {@code lock}. */
    private volatile long reserved;
    private final Sealer sealer = BlockAllocator::seal;

    public BlockAllocator(Layout layout, byte[][] bitmaps, ReentrantLock metadataLock) {
        this.layout = layout;
        this.bitmaps = bitmaps;
        this.lock = metadataLock;
        this.inUse = new long[(int) ((layout.totalBlocks() + 63) >>> 6)];
        long freeCount = 0;
        for (long b = 0; b < layout.totalBlocks(); b++) {
            if (diskBit(b)) {
                inUse[(int) (b >>> 6)] |= 1L << b;
            } else if (b >= layout.dataStart()) {
                freeCount++;
            }
        }
        for (long b = 0; b < layout.dataStart(); b++) {
            inUse[(int) (b >>> 6)] |= 1L << b;
        }
        this.free = freeCount;
    }

    /** Fresh bitmap images for mkfs: every metadata block (everything before the data area) in use. */
    public static byte[][] initialBitmaps(Layout layout) {
        byte[][] maps = new byte[(int) layout.bitmapBlocks()][Layout.BLOCK_SIZE];
        for (long b = 0; b < layout.dataStart(); b++) {
            setBit(maps, b, true);
        }
        for (int i = 0; i < maps.length; i++) {
            seal(layout.bitmapStart() + i, maps[i]);
        }
        return maps;
    }

    public static void seal(long home, byte[] image) {
        Bytes.i32(image, CRC_OFFSET, Bytes.crc(home, image, 0, CRC_OFFSET));
    }

    public static boolean crcOk(long home, byte[] image) {
        return Bytes.i32(image, CRC_OFFSET) == Bytes.crc(home, image, 0, CRC_OFFSET);
    }

    /** Free data blocks (the bitmap's count, reserved ones included). */
    public long freeBlocks() {
        return free;
    }

    /** Free blocks that are not reserved: what an ordinary allocation can have now (a hint without the lock). */
    public long availableBlocks() {
        return free - reserved;
    }

    /** Blocks held back for the extent nodes of conversions, over all files. */
    public long reservedBlocks() {
        return reserved;
    }

    /** What {@code ino} has held back. */
    public long reservation(long ino) {
        return reservations.getOrDefault(ino, 0L);
    }

    /**
     * Sets the reservation of {@code ino} to {@code blocks}. Giving back always works; more takes
     * only blocks that are free and not reserved. When there are not enough, {@code partial} takes
     * what there is, otherwise nothing changes.
     *
     * @return whether the reservation is now {@code blocks}
     */
    public boolean reserve(long ino, long blocks, boolean partial) {
        lock.lock();
        try {
            long had = reservations.getOrDefault(ino, 0L);
            long want = blocks;
            if (blocks > had && blocks - had > free - reserved) {
                if (!partial) {
                    return false;
                }
                want = had + Math.max(0, free - reserved);
            }
            reserved += want - had;
            if (want == 0) {
                reservations.remove(ino);
            } else {
                reservations.put(ino, want);
            }
            return want == blocks;
        } finally {
            lock.unlock();
        }
    }

    /** Data blocks freed by transactions that have not committed yet: free once they do. */
    public long releasingBlocks() {
        lock.lock();
        try {
            return releasing;
        } finally {
            lock.unlock();
        }
    }

    /** Journal credits for allocating or freeing one run of up to {@code len} blocks. */
    public static int creditsFor(long len) {
        return (int) (2 + len / Layout.BITS_PER_BITMAP_BLOCK);
    }

    /** The on-device bitmap says {@code blk} is allocated. */
    public boolean allocatedOnDisk(long blk) {
        lock.lock();
        try {
            return diskBit(blk);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The first free run at or after {@code goal} (wrapping round the data area), at most
     * {@code maxLen} blocks, marked in use in the handle's transaction; null when the device is full.
     */
    public Run allocate(Handle handle, long goal, long maxLen) {
        long avail = free - reserved;
        if (avail <= 0) {
            return null;
        }
        return take(handle, goal, Math.min(maxLen, avail));
    }

    /**
     * One block for an extent node of a conversion of {@code ino}'s unwritten space: an unreserved
     * block if there is one, else one of {@code ino}'s reservation; null when neither.
     */
    public Run allocateNode(Handle handle, long goal, long ino) {
        if (free - reserved <= 0) {
            long mine = reservations.getOrDefault(ino, 0L);
            if (mine <= 0) {
                return null;
            }
            reserve(ino, mine - 1, false);
        }
        return take(handle, goal, 1);
    }

    /** Gives back a run {@link #allocate} returned in this same handle, before anything referred to it. */
    public void unallocate(Handle handle, Run run) {
        mark(handle, run, false);
        for (long b = run.start(); b < run.end(); b++) {
            inUse[(int) (b >>> 6)] &= ~(1L << b);
        }
        free += run.len();
    }

    private Run take(Handle handle, long goal, long maxLen) {
        long total = layout.totalBlocks();
        long start = goal < layout.dataStart() || goal >= total ? layout.dataStart() : goal;
        long found = nextFree(start, total);
        if (found < 0) {
            found = nextFree(layout.dataStart(), start);
            if (found < 0) {
                return null;
            }
        }
        long end = found + 1;
        while (end < total && end - found < maxLen && !memBit(end)) {
            end++;
        }
        Run run = new Run(found, end - found);
        mark(handle, run, true);
        for (long b = run.start(); b < run.end(); b++) {
            inUse[(int) (b >>> 6)] |= 1L << b;
        }
        free -= run.len();
        return run;
    }

    /** Frees data blocks in the handle's transaction; they become allocatable once it commits. */
    public void free(Handle handle, Run run) {
        mark(handle, run, false);
        handle.afterCommit(() -> {
            lock.lock();
            try {
                releaseLocked(run);
                releasing -= run.len();
            } finally {
                lock.unlock();
            }
        });
        lock.lock();
        try {
            releasing += run.len();
        } finally {
            lock.unlock();
        }
    }

    /** Frees an extent-node block; reusable once the journal no longer holds images of it. */
    public void freeMeta(Handle handle, long blk) {
        Run run = new Run(blk, 1);
        mark(handle, run, false);
        handle.afterCheckpoint(() -> release(run));
    }

    /** Marks blocks in use without a transaction: mount-time repair of blocks the bitmap lost. */
    public void reserveInMemory(long pblk, long len) {
        lock.lock();
        try {
            for (long b = pblk; b < pblk + len; b++) {
                if (!memBit(b)) {
                    inUse[(int) (b >>> 6)] |= 1L << b;
                    free--;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void release(Run run) {
        lock.lock();
        try {
            releaseLocked(run);
        } finally {
            lock.unlock();
        }
    }

    private void releaseLocked(Run run) {
        for (long b = run.start(); b < run.end(); b++) {
            if (memBit(b) && !diskBit(b)) {
                inUse[(int) (b >>> 6)] &= ~(1L << b);
                free++;
            }
        }
    }

    private void mark(Handle handle, Run run, boolean used) {
        long blk = run.start();
        while (blk < run.end()) {
            int map = (int) (blk / Layout.BITS_PER_BITMAP_BLOCK);
            long mapEnd = Math.min(run.end(), (long) (map + 1) * Layout.BITS_PER_BITMAP_BLOCK);
            handle.getWriteAccess(layout.bitmapStart() + map, bitmaps[map], sealer);
            for (; blk < mapEnd; blk++) {
                if (diskBit(blk) == used) {
                    throw new IllegalStateException("block " + blk + " already " + (used ? "allocated" : "free"));
                }
                setBit(bitmaps, blk, used);
            }
        }
    }

    private long nextFree(long from, long to) {
        long blk = from;
        while (blk < to) {
            long word = ~inUse[(int) (blk >>> 6)] & (-1L << (blk & 63));
            if (word != 0) {
                long hit = (blk & ~63L) + Long.numberOfTrailingZeros(word);
                return hit < to ? hit : -1;
            }
            blk = (blk & ~63L) + 64;
        }
        return -1;
    }

    private boolean memBit(long blk) {
        return (inUse[(int) (blk >>> 6)] & (1L << blk)) != 0;
    }

    private boolean diskBit(long blk) {
        int map = (int) (blk / Layout.BITS_PER_BITMAP_BLOCK);
        int bit = (int) (blk % Layout.BITS_PER_BITMAP_BLOCK);
        return (bitmaps[map][bit >>> 3] & (1 << (bit & 7))) != 0;
    }

    private static void setBit(byte[][] maps, long blk, boolean used) {
        int map = (int) (blk / Layout.BITS_PER_BITMAP_BLOCK);
        int bit = (int) (blk % Layout.BITS_PER_BITMAP_BLOCK);
        if (used) {
            maps[map][bit >>> 3] |= (byte) (1 << (bit & 7));
        } else {
            maps[map][bit >>> 3] &= (byte) ~(1 << (bit & 7));
        }
    }
}
