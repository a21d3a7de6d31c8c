package dionode.node.cache;

import dionode.node.meta.Layout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node's page cache (DESIGN §4): 4 KiB pages of files' data under one budget for all files
 * ({@code serve --page-cache}). Each file's pages are a {@link FilePages}, its inode actor's alone;
 * what crosses files goes as messages to their actors ({@link FileOwner}): a shrink, least
 * recently used files first, when a writer finds no page free (shrink_page_list over the LRU), and
 * the writeback of pages dirty longer than the expiry ({@code dirty_expire_centisecs}, asked by
 * the flusher's tick). A writer that still finds none waits, parked, until pages come back or are
 * cleaned ({@link #awaitPages}); the wait queue is bounded.
 * Thread-safe: the budget and counters are atomic, the files a concurrent map.
 */
public final class PageCache {
    public static final int PAGE = Layout.BLOCK_SIZE;
    /** The smallest budget: 256 pages, room for a few writers' partial pages and one writeback run each. */
    public static final long MIN_BYTES = 1L << 20;
    public static final long DEFAULT_BYTES = 256L << 20;
    public static final Duration DEFAULT_DIRTY_EXPIRE = Duration.ofSeconds(30);
    /** Writers parked for pages, node-wide; one more is refused (each holds its file's exclusive lock, so one per file). */
    static final int MAX_WAITERS = 4096;

    private final long capacity;
    private final long dirtyExpireNanos;
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong dirty = new AtomicLong();
    private final AtomicLong inWriteback = new AtomicLong();
    private final Map<Long, FilePages> files = new ConcurrentHashMap<>();
    private final ArrayBlockingQueue<Runnable> waiters = new ArrayBlockingQueue<>(MAX_WAITERS);
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder reclaimed = new LongAdder();
    final LongAdder writtenBack = new LongAdder();
    private final LongAdder waits = new LongAdder();

    /**
     * @param bytes budget, at least {@link #MIN_BYTES}
     * @param dirtyExpire how long a page may stay dirty before the flusher writes it back
     */
    public PageCache(long bytes, Duration dirtyExpire) {
        if (bytes < MIN_BYTES) {
            throw new IllegalArgumentException("the page cache needs at least " + (MIN_BYTES >> 20) + " MiB, not " + bytes
                    + " bytes");
        }
        this.capacity = bytes / PAGE;
        this.dirtyExpireNanos = dirtyExpire.toNanos();
    }

    /** The pages of {@code ino}, made on first use; {@code owner} is the actor that holds them from now on. */
    public FilePages file(long ino, FileOwner owner) {
        return files.compute(ino, (i, pages) -> {
            FilePages p = pages != null ? pages : new FilePages(this, i);
            p.owner = owner;
            return p;
        });
    }

    /**
     * Drops the clean pages of a file whose actor {@code owner} stops; dirty ones stay for the next
     * actor (it is not stopped while any is). Nothing happens once a next actor has taken the
     * pages: the owner check and the drop are one step against {@link #file}, so a stopping actor
     * never touches pages its successor uses.
     */
    public void release(long ino, FileOwner owner) {
        files.computeIfPresent(ino, (i, pages) -> pages.owner != owner ? pages : pages.dropClean() && pages.isEmpty() ? null : pages);
    }

    /** Drops every page of an unlinked file (truncate_inode_pages_final). */
    public void forget(long ino) {
        FilePages pages = files.remove(ino);
        if (pages != null) {
            pages.dropAll();
        }
    }

    /** Takes {@code n} pages of the budget, or none. */
    boolean take(int n) {
        while (true) {
            long now = used.get();
            if (now + n > capacity) {
                return false;
            }
            if (used.compareAndSet(now, now + n)) {
                return true;
            }
        }
    }

    void give(int n) {
        if (n > 0) {
            used.addAndGet(-n);
            wake();
        }
    }

    void dirtied(int n) {
        dirty.addAndGet(n);
    }

    void writingBack(int n) {
        inWriteback.addAndGet(n);
    }

    /** sync(2): every file with dirty pages writes them all back. */
    public void syncAll() {
        for (FilePages f : files.values()) {
            FileOwner owner = f.owner;
            if (owner != null && f.oldestDirty != Long.MAX_VALUE) {
                owner.expire(Long.MAX_VALUE);
            }
        }
    }

    public long inWriteback() {
        return inWriteback.get();
    }

    /**
     * Parks {@code retry} until pages come back or get cleaned; false when too many writers wait
     * already. The writer has asked its own file and the others to give pages back first.
     */
    public boolean awaitPages(Runnable retry) {
        if (!waiters.offer(retry)) {
            return false;
        }
        waits.increment();
        if (used.get() < capacity) {
            wake();
        }
        return true;
    }

    /** Pages came back or were cleaned: every parked writer tries again (each only sends its actor a message). */
    public void wake() {
        Runnable waiter;
        int n = waiters.size();
        while (n-- > 0 && (waiter = waiters.poll()) != null) {
            waiter.run();
        }
    }

    /** Asks the files other than {@code ino}, least recently used first, for about {@code pages} pages. */
    public void shrinkOthers(long ino, int pages) {
        List<FilePages> others = new ArrayList<>(files.values());
        others.removeIf(f -> f.ino == ino || f.published == 0);
        others.sort(Comparator.comparingLong(f -> f.lastUse));
        int asked = 0;
        for (FilePages f : others) {
            if (asked >= pages) {
                break;
            }
            FileOwner owner = f.owner;
            if (owner != null) {
                owner.shrink(pages - asked);
                asked += f.published;
            }
        }
    }

    /** The flusher's tick: files with pages dirty since before the expiry write them back. */
    public void expire(long nowNanos) {
        long cutoff = nowNanos - dirtyExpireNanos;
        for (FilePages f : files.values()) {
            FileOwner owner = f.owner;
            if (owner != null && f.oldestDirty <= cutoff) {
                owner.expire(cutoff);
            }
        }
    }

    /** Dirty pages past this share of the budget make a writer start writeback of its file (dirty_background_ratio). */
    public boolean overBackgroundThreshold() {
        return dirty.get() > capacity / 4;
    }

    public long capacityPages() {
        return capacity;
    }

    public long usedPages() {
        return used.get();
    }

    public long dirtyPages() {
        return dirty.get();
    }

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    public long reclaimed() {
        return reclaimed.sum();
    }

    public long writtenBack() {
        return writtenBack.sum();
    }

    public long waits() {
        return waits.sum();
    }
}
