package dionode.node.alloc;

import dionode.node.journal.Handle;
import dionode.node.journal.Sealer;
import dionode.node.meta.Bytes;
import dionode.node.meta.Layout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

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
 * <p>Thread-safe and lock-free: handles of many inode actors allocate and free at once, as the
 * journal runs them at once. A block is handed out by the compare-and-set that sets its bit in
 * the in-memory map ({@link InUseBits}), the on-device bitmap's bits change by atomic updates of
 * their words ({@link BitmapImages}), and the counts are atomic. Space is counted before it is
 * taken and given back after it is released: an allocation first takes one block from
 * {@code unreserved} (or from its file's reservation), then a bit; a release clears the bit, then
 * adds the block back. So the clear bits are never fewer than the blocks counted free, and a scan
 * that holds a counted block always finds a clear bit: a pass that finds none saw every clear bit
 * taken by another thread as it got there, and retries (lock-free: some thread made progress).
 * Nothing here waits or does I/O.
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
    private final BitmapImages bitmaps;
    private final InUseBits inUse;
    /** Data blocks whose in-memory bit is clear. */
    private final AtomicLong free = new AtomicLong();
    /** Free blocks not held back for conversions: what ordinary allocations may take. */
    private final AtomicLong unreserved = new AtomicLong();
    /** The sum of {@link #reservations}. */
    private final AtomicLong reserved = new AtomicLong();
    private final AtomicLong releasing = new AtomicLong();
    /** Per inode, blocks held back for its conversions; each entry is changed by its inode's owner only. */
    private final Map<Long, Long> reservations = new ConcurrentHashMap<>();
    private final Sealer sealer = BlockAllocator::seal;

    public BlockAllocator(Layout layout, byte[][] bitmaps) {
        this.layout = layout;
        this.bitmaps = new BitmapImages(bitmaps);
        long[] used = new long[(int) ((layout.totalBlocks() + 63) >>> 6)];
        long freeCount = 0;
        for (long b = 0; b < layout.totalBlocks(); b++) {
            if (b < layout.dataStart() || this.bitmaps.get(b)) {
                used[(int) (b >>> 6)] |= 1L << b;
            } else {
                freeCount++;
            }
        }
        this.inUse = new InUseBits(used);
        free.set(freeCount);
        unreserved.set(freeCount);
    }

    /** Fresh bitmap images for mkfs: every metadata block (everything before the data area) in use. */
    public static byte[][] initialBitmaps(Layout layout) {
        byte[][] maps = new byte[(int) layout.bitmapBlocks()][Layout.BLOCK_SIZE];
        for (long b = 0; b < layout.dataStart(); b++) {
            BitmapImages.setPlain(maps, b);
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
        return free.get();
    }

    /** Free blocks that are not reserved: what an ordinary allocation can have now (a hint: others allocate too). */
    public long availableBlocks() {
        return unreserved.get();
    }

    /** Blocks held back for the extent nodes of conversions, over all files. */
    public long reservedBlocks() {
        return reserved.get();
    }

    /** What {@code ino} has held back. */
    public long reservation(long ino) {
        return reservations.getOrDefault(ino, 0L);
    }

    /**
     * Sets the reservation of {@code ino} to {@code blocks}; called by {@code ino}'s owner. Giving
     * back always works; more takes only blocks that are free and not reserved. When there are not
     * enough, {@code partial} takes what there is, otherwise nothing changes.
     *
     * @return whether the reservation is now {@code blocks}
     */
    public boolean reserve(long ino, long blocks, boolean partial) {
        long had = reservation(ino);
        long want = blocks;
        if (blocks > had) {
            long got = takeUnreserved(blocks - had, partial);
            if (got < blocks - had && !partial) {
                return false;
            }
            want = had + got;
        }
        setReservation(ino, want);
        reserved.addAndGet(want - had);
        if (want < had) {
            unreserved.addAndGet(had - want);
        }
        return want == blocks;
    }

    /** Data blocks freed by transactions that have not committed yet: free once they do. */
    public long releasingBlocks() {
        return releasing.get();
    }

    /** Journal credits for allocating or freeing one run of up to {@code len} blocks. */
    public static int creditsFor(long len) {
        return (int) (2 + len / Layout.BITS_PER_BITMAP_BLOCK);
    }

    /** The on-device bitmap says {@code blk} is allocated. */
    public boolean allocatedOnDisk(long blk) {
        return bitmaps.get(blk);
    }

    /**
     * The first free run at or after {@code goal} (wrapping round the data area), at most
     * {@code maxLen} blocks, marked in use in the handle's transaction; null when the device is full.
     */
    public Run allocate(Handle handle, long goal, long maxLen) {
        return allocate(handle, goal, maxLen, NO_RESERVATION);
    }

    /** No reservation to draw on: an allocation takes unreserved blocks only. */
    public static final long NO_RESERVATION = Long.MIN_VALUE;

    /**
     * The key of {@code ino}'s delayed allocations (its dirty cached pages over holes, reserved
     * when written as ext4_da_reserve_space does), apart from its conversion reservation.
     */
    public static long delayedKey(long ino) {
        return -1 - ino;
    }

    /**
     * {@link #allocate(Handle, long, long)} drawing on the reservation of {@code key} first (writeback
     * allocating the blocks its buffered writes reserved), then on unreserved blocks; called by the
     * reservation's owner.
     */
    public Run allocate(Handle handle, long goal, long maxLen, long key) {
        if (!takeOne(key)) {
            return null;
        }
        return take(handle, goal, maxLen, key);
    }

    /** One block of {@code key}'s reservation, or else an unreserved one; false when neither. */
    private boolean takeOne(long key) {
        long mine = key == NO_RESERVATION ? 0 : reservation(key);
        if (mine > 0) {
            setReservation(key, mine - 1);
            reserved.decrementAndGet();
            return true;
        }
        return takeUnreserved(1, false) == 1;
    }

    /**
     * One block for an extent node of a conversion of {@code ino}'s unwritten space: an unreserved
     * block if there is one, else one of {@code ino}'s reservation; null when neither.
     */
    public Run allocateNode(Handle handle, long goal, long ino) {
        if (takeUnreserved(1, false) == 0) {
            long mine = reservation(ino);
            if (mine <= 0) {
                return null;
            }
            setReservation(ino, mine - 1);
            reserved.decrementAndGet();
        }
        return take(handle, goal, 1, NO_RESERVATION);
    }

    /** Gives back a run {@link #allocate} returned in this same handle, before anything referred to it. */
    public void unallocate(Handle handle, Run run) {
        mark(handle, run, false);
        giveBack(run);
    }

    /**
     * Takes a run whose first block is already counted: claims the first clear bit from {@code goal}
     * on, then the clear bits right after it while {@code key}'s reservation or unreserved blocks
     * remain, and marks them on the bitmap; a failure there gives every claimed block back (as
     * unreserved: the owner of a reservation sets it again). Null, giving the count back, only if
     * the counts are wrong: a whole pass found no clear bit though no other thread took one.
     */
    private Run take(Handle handle, long goal, long maxLen, long key) {
        long total = layout.totalBlocks();
        long start = goal < layout.dataStart() || goal >= total ? layout.dataStart() : goal;
        long found = -1;
        while (found < 0) {
            long claimsBefore = inUse.claims();
            found = inUse.claimFirst(start, total);
            if (found < 0) {
                found = inUse.claimFirst(layout.dataStart(), total);
            }
            if (found < 0 && inUse.claims() == claimsBefore) {
                unreserved.incrementAndGet();
                return null;
            }
        }
        long end = found + 1;
        while (end < total && end - found < maxLen && takeOne(key)) {
            if (!inUse.claim(end)) {
                unreserved.incrementAndGet();
                break;
            }
            end++;
        }
        Run run = new Run(found, end - found);
        free.addAndGet(-run.len());
        try {
            mark(handle, run, true);
        } catch (RuntimeException e) {
            giveBack(run);
            throw e;
        }
        return run;
    }

    /** Frees data blocks in the handle's transaction; they become allocatable once it commits. */
    public void free(Handle handle, Run run) {
        mark(handle, run, false);
        releasing.addAndGet(run.len());
        handle.afterCommit(() -> {
            release(run);
            releasing.addAndGet(-run.len());
        });
    }

    /** Frees an extent-node block; reusable once the journal no longer holds images of it. */
    public void freeMeta(Handle handle, long blk) {
        Run run = new Run(blk, 1);
        mark(handle, run, false);
        handle.afterCheckpoint(() -> release(run));
    }

    /** Marks blocks in use without a transaction: mount-time repair of blocks the bitmap lost. */
    public void reserveInMemory(long pblk, long len) {
        for (long b = pblk; b < pblk + len; b++) {
            if (inUse.claim(b)) {
                free.decrementAndGet();
                unreserved.decrementAndGet();
            }
        }
    }

    /** Takes {@code n} unreserved blocks, or with {@code partial} as many as there are; returns how many. */
    private long takeUnreserved(long n, boolean partial) {
        for (;;) {
            long avail = unreserved.get();
            long take = avail >= n ? n : partial ? Math.max(0, avail) : 0;
            if (take == 0 || unreserved.compareAndSet(avail, avail - take)) {
                return take;
            }
        }
    }

    private void setReservation(long ino, long blocks) {
        if (blocks == 0) {
            reservations.remove(ino);
        } else {
            reservations.put(ino, blocks);
        }
    }

    /** Blocks taken from the in-memory map and not on the bitmap go back at once. */
    private void giveBack(Run run) {
        for (long b = run.start(); b < run.end(); b++) {
            inUse.release(b);
        }
        free.addAndGet(run.len());
        unreserved.addAndGet(run.len());
    }

    /** The freed blocks that the bitmap still says are free become allocatable. */
    private void release(Run run) {
        for (long b = run.start(); b < run.end(); b++) {
            // Nobody sets b's bitmap bit meanwhile: only the holder of its in-memory bit may.
            if (!bitmaps.get(b) && inUse.release(b)) {
                free.incrementAndGet();
                unreserved.incrementAndGet();
            }
        }
    }

    /**
     * Sets the run's bitmap bits to {@code used} in the handle's transaction: write access to every
     * bitmap block first (credits may run out), then the bits; all or nothing.
     *
     * @throws IllegalStateException if a bit already was {@code used}; the bitmap is as it was
     */
    private void mark(Handle handle, Run run, boolean used) {
        for (int map = BitmapImages.mapOf(run.start()); map <= BitmapImages.mapOf(run.end() - 1); map++) {
            handle.getWriteAccess(layout.bitmapStart() + map, bitmaps.image(map), sealer);
        }
        for (long blk = run.start(); blk < run.end(); blk++) {
            if (!bitmaps.set(blk, used)) {
                for (long done = run.start(); done < blk; done++) {
                    bitmaps.set(done, !used);
                }
                throw new IllegalStateException("block " + blk + " already " + (used ? "allocated" : "free"));
            }
        }
    }
}
