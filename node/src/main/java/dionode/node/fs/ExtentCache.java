package dionode.node.fs;

import dionode.node.extent.ExtentFormat;
import dionode.node.meta.Layout;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node-wide extent cache (DESIGN §3): the extent blocks below each file's inline root that are
 * in memory, with a byte budget over all files ({@code serve --es-cache}). Extent blocks are read
 * when a lookup needs them and dropped by a shrinker that takes the files used least recently
 * first, whole, as ext4's es shrinker walks its LRU list of inodes ({@code ext4_es_scan}). What it
 * never drops: a block the journal holds and has not written home yet (its image on the device is
 * old; jbd2 pins such buffers the same way), and the blocks of a file that has requests in hand
 * ({@code ext4_es_reclaim_extents} skips an inode whose lock it cannot take). So the budget is
 * exceeded only by files in use. Thread-safe: lock-free maps and counters; one shrink runs at a
 * time, and a caller that finds one running leaves the work to it.
 */
public final class ExtentCache {
    /** What one cached block costs: its image and the entries that keep it. */
    static final long BLOCK_COST = Layout.BLOCK_SIZE + 128;
    /** The smallest budget: enough for the deepest path of a few files. */
    public static final long MIN_BYTES = 64 << 10;

    private final long budget;
    private final Map<Long, Cached> blocks = new ConcurrentHashMap<>();
    private final Map<Long, Owner> owners = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong clock = new AtomicLong();
    private final AtomicBoolean shrinking = new AtomicBoolean();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder shrunk = new LongAdder();
    private final LongAdder reads = new LongAdder();

    /** One block in memory. {@code pins} is read and changed only inside the map's per-key compute. */
    private static final class Cached {
        final long ino;
        final byte[] image;
        int pins;

        Cached(long ino, byte[] image) {
            this.ino = ino;
            this.image = image;
        }
    }

    /**
     * One file's part of the cache: its blocks, when it was last used, whether it is in use, and how
     * many times the shrinker took blocks of it. A file's busy count leaves 0 and the shrinker drops
     * its blocks only under the owner's monitor, so a file held busy loses nothing. Owners live as
     * long as the cache.
     */
    private static final class Owner {
        final Set<Long> blocks = ConcurrentHashMap.newKeySet();
        final AtomicInteger busy = new AtomicInteger();
        volatile long lastUse;
        /** Guarded by this owner's monitor. */
        long drops;
    }

    /** @param budget bytes of extent blocks to keep, at least {@link #MIN_BYTES} */
    public ExtentCache(long budget) {
        if (budget < MIN_BYTES) {
            throw new IllegalArgumentException("the extent cache needs at least " + MIN_BYTES + " bytes, not " + budget);
        }
        this.budget = budget;
    }

    /** A cache that never drops a block: for fsck, which reads every tree once. */
    static ExtentCache unbounded() {
        return new ExtentCache(Long.MAX_VALUE);
    }

    public long budget() {
        return budget;
    }

    /** The image of {@code blk} for its file {@code ino}, or null when it is not in memory; a use for the LRU order. */
    byte[] get(long ino, long blk) {
        Cached cached = blocks.get(blk);
        if (cached == null) {
            return null;
        }
        touch(ino);
        return cached.image;
    }

    boolean contains(long blk) {
        return blocks.containsKey(blk);
    }

    /**
     * Adds a block read from the device (or a new node) unless the block is already there: a copy
     * in memory is never replaced, since it may be newer than the device's. Then shrinks if over budget.
     */
    void add(long ino, long blk, byte[] image) {
        boolean[] added = new boolean[1];
        blocks.computeIfAbsent(blk, key -> {
            added[0] = true;
            return new Cached(ino, image);
        });
        if (added[0]) {
            owner(ino).blocks.add(blk);
            bytes.addAndGet(BLOCK_COST);
        }
        touch(ino);
        shrinkIfOver();
    }

    /**
     * The journal now holds {@code image} of {@code blk}: kept until {@link #unpin}, after the
     * checkpoint wrote it home. A block the shrinker dropped while its owner still read it comes back.
     */
    void pin(long ino, long blk, byte[] image) {
        boolean[] added = new boolean[1];
        blocks.compute(blk, (key, cached) -> {
            Cached held = cached;
            if (held == null) {
                held = new Cached(ino, image);
                added[0] = true;
            }
            held.pins++;
            return held;
        });
        if (added[0]) {
            owner(ino).blocks.add(blk);
            bytes.addAndGet(BLOCK_COST);
            shrinkIfOver();
        }
    }

    /**
     * The checkpoint wrote one journaled {@code image} of {@code blk} home. A block freed and
     * allocated again since holds another image: that one's pins are not this checkpoint's.
     */
    void unpin(long blk, byte[] image) {
        blocks.computeIfPresent(blk, (key, cached) -> {
            if (cached.image == image) {
                cached.pins = Math.max(0, cached.pins - 1);
            }
            return cached;
        });
    }

    /** A block the tree no longer points to (freed or never committed): gone whatever its pins. */
    void remove(long blk) {
        Cached cached = blocks.remove(blk);
        if (cached != null) {
            bytes.addAndGet(-BLOCK_COST);
            Owner owner = owners.get(cached.ino);
            if (owner != null) {
                owner.blocks.remove(blk);
            }
        }
    }

    /**
     * File {@code ino} took up (true) or answered (false) a request: the shrinker leaves a busy
     * file alone, and runs when one goes idle with the cache over its budget (no I/O: map updates).
     */
    public void busy(long ino, boolean inUse) {
        Owner owner = owner(ino);
        if (inUse) {
            hold(owner);
        } else if (owner.busy.decrementAndGet() == 0) {
            shrinkIfOver(); // a file that held the cache over its budget while in use gives it back as soon as it is idle
        }
    }

    /**
     * Marks file {@code ino} in use, as {@code busy(ino, true)} does (undone by {@code busy(ino,
     * false)}), and returns how many times the shrinker has dropped blocks of it so far: a file whose
     * count has not moved since its whole tree was last found in memory is still whole, and stays
     * so while held.
     */
    public long hold(long ino) {
        return hold(owner(ino));
    }

    private long hold(Owner owner) {
        long drops;
        synchronized (owner) {
            owner.busy.incrementAndGet();
            drops = owner.drops;
        }
        owner.lastUse = clock.incrementAndGet();
        return drops;
    }

    private Owner owner(long ino) {
        return owners.computeIfAbsent(ino, key -> new Owner());
    }

    private void touch(long ino) {
        owner(ino).lastUse = clock.incrementAndGet();
    }

    private void shrinkIfOver() {
        if (bytes.get() <= budget || !shrinking.compareAndSet(false, true)) {
            return;
        }
        try {
            int fruitless = 0;
            while (bytes.get() > budget && fruitless <= owners.size()) {
                Owner victim = leastRecentlyUsed();
                if (victim == null) {
                    return;
                }
                fruitless = drop(victim) > 0 ? 0 : fruitless + 1;
            }
        } finally {
            shrinking.set(false);
        }
    }

    /** The idle file used least recently that has blocks; null when there is none. */
    private Owner leastRecentlyUsed() {
        Owner oldest = null;
        for (Owner owner : owners.values()) {
            if (owner.busy.get() == 0 && !owner.blocks.isEmpty() && (oldest == null || owner.lastUse < oldest.lastUse)) {
                oldest = owner;
            }
        }
        return oldest;
    }

    /**
     * Drops every block of {@code owner} the journal does not pin; returns how many. A file left
     * with pinned blocks only goes behind the others until its checkpoint.
     */
    private int drop(Owner owner) {
        synchronized (owner) {
            if (owner.busy.get() != 0) {
                return 0; // taken into use since it was chosen
            }
            int dropped = dropIdle(owner);
            if (dropped > 0) {
                owner.drops++;
            }
            return dropped;
        }
    }

    private int dropIdle(Owner owner) {
        int dropped = 0;
        for (long blk : owner.blocks) {
            Cached[] gone = new Cached[1];
            blocks.computeIfPresent(blk, (key, cached) -> {
                if (cached.pins > 0) {
                    return cached;
                }
                gone[0] = cached;
                return null;
            });
            if (gone[0] != null) {
                owner.blocks.remove(blk);
                bytes.addAndGet(-BLOCK_COST);
                shrunk.add(leafExtents(gone[0].image));
                dropped++;
            }
        }
        owner.lastUse = clock.incrementAndGet();
        return dropped;
    }

    private static int leafExtents(byte[] image) {
        return ExtentFormat.depth(image, 0) == 0 ? ExtentFormat.entries(image, 0) : 0;
    }

    void hit() {
        hits.increment();
    }

    void miss() {
        misses.increment();
    }

    void read() {
        reads.increment();
    }

    /** Lookups answered from memory ({@code es_hits}). */
    public long hits() {
        return hits.sum();
    }

    /** Lookups that needed a block not in memory ({@code es_misses}). */
    public long misses() {
        return misses.sum();
    }

    /** Extents dropped by the shrinker ({@code es_shrunk}). */
    public long shrunk() {
        return shrunk.sum();
    }

    /** Extent blocks read from the device ({@code meta_reads}). */
    public long reads() {
        return reads.sum();
    }

    /** Extents held now, in cached leaf blocks ({@code es_cached}). */
    public long cachedExtents() {
        long extents = 0;
        for (Cached cached : blocks.values()) {
            extents += leafExtents(cached.image);
        }
        return extents;
    }

    /** Bytes held now. */
    public long bytes() {
        return bytes.get();
    }
}
