package dionode.node.cache;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One file's pages in the {@link PageCache} (its address_space): which are cached, which dirty
 * and since when, which under writeback, the clean ones in least-recently-used order, and the
 * file's write error sequence (errseq: what the next fsync reports). A page under writeback is
 * never taken by a second run until the first ends, so a page's versions reach the device in order.
 * Confined to the file's inode actor, but for {@link #oldestDirty} and {@link #lastUse}, which the
 * cache's tick and shrinker read from other threads.
 */
public final class FilePages {
    private static final int PAGE = PageCache.PAGE;

    /** One cached page. */
    private static final class Page {
        final long index;
        final byte[] data;
        boolean dirty;
        boolean writeback;
        /** A direct write went past this page while it was under writeback: dropped, not kept, when that ends. */
        boolean dropAfterWriteback;
        /** Dirtied over a hole: one block of the file's delayed-allocation reservation is its, until writeback ends. */
        boolean delayed;
        long dirtiedAt;

        Page(long index, byte[] data) {
            this.index = index;
            this.data = data;
        }
    }

    private final PageCache cache;
    final long ino;
    volatile FileOwner owner;
    private final TreeMap<Long, Page> pages = new TreeMap<>();
    /** Clean pages not under writeback, least recently used first. */
    private final LinkedHashMap<Long, Page> clean = new LinkedHashMap<>(16, 0.75f, true);
    /** Dirty pages, first dirtied first (an inode's dirtied_when, per page). */
    private final LinkedHashMap<Long, Page> dirtyOrder = new LinkedHashMap<>();
    /** Dirty pages by index, for runs. */
    private final TreeSet<Long> dirtyIndex = new TreeSet<>();
    private int underWriteback;
    private int delayedPages;
    /** Runs under writeback by their first page. */
    private final Map<Long, TrackedRun> tracked = new HashMap<>();
    /** Pages taken from the budget and not yet filled by {@link #write}. */
    private int reserved;
    private long errors;
    private long errorsSeen;
    /** Bumped by every invalidation: a fill read before it must not be cached. */
    private long invalidations;
    /**
     * Exclusive extent changes under way (invalidate_lock held): no fill is cached meanwhile, since
     * its read may have seen blocks the change is removing or zeroing.
     */
    private int mappingChanges;
    /** i_size as buffered writes grew it, kept across actor restarts (the record holds i_disksize). */
    private long size = -1;
    volatile long oldestDirty = Long.MAX_VALUE;
    volatile long lastUse;
    /** {@link #size()} for the cache's shrinker on other threads. */
    volatile int published;

    FilePages(PageCache cache, long ino) {
        this.cache = cache;
        this.ino = ino;
    }

    public int pageCount() {
        return pages.size();
    }

    boolean isEmpty() {
        return pages.isEmpty() && reserved == 0;
    }

    public int dirtyPages() {
        return dirtyOrder.size();
    }

    public int underWriteback() {
        return underWriteback;
    }

    /** Pages dirtied over holes whose writeback has not ended: the blocks the file must keep reserved. */
    public int delayedPages() {
        return delayedPages;
    }

    /** Whether page {@code index} holds a block of the reservation already. */
    public boolean delayed(long index) {
        Page page = pages.get(index);
        return page != null && page.delayed;
    }

    public boolean cached(long index) {
        return pages.containsKey(index);
    }

    /** Copies {@code len} bytes at {@code from} of page {@code index} into {@code dst}; false on a miss. */
    public boolean read(long index, int from, byte[] dst, int dstOffset, int len, long now) {
        Page page = pages.get(index);
        if (page == null) {
            cache.misses.increment();
            return false;
        }
        cache.hits.increment();
        clean.get(index);
        lastUse = now;
        System.arraycopy(page.data, from, dst, dstOffset, len);
        return true;
    }

    /** What a fill must present to {@link #fill}: the invalidations seen when its read began. */
    public long fillTicket() {
        return invalidations;
    }

    /** Caches a page read from the device, clean, unless it is there already, was invalidated since, or there is no room. */
    public void fill(long index, byte[] image, long ticket) {
        if (ticket != invalidations || mappingChanges > 0 || pages.containsKey(index) || !cache.take(1)) {
            return;
        }
        Page page = new Page(index, image);
        pages.put(index, page);
        clean.put(index, page);
        publish();
    }

    /** An exclusive extent change begins (filemap_invalidate_lock): fills begun before it or during it are not cached. */
    public void beginMappingChange() {
        mappingChanges++;
        invalidations++;
    }

    public void endMappingChange() {
        mappingChanges--;
        invalidations++;
    }

    /** i_size as the last buffered write or truncate left it, or -1. */
    public long size() {
        return size;
    }

    public void size(long bytes) {
        size = bytes;
    }

    /** Write errors so far (writeback failures and stale pages): a flush compares it before and after. */
    public long errorCount() {
        return errors;
    }

    /** Whether an error is set that no fsync has reported yet. */
    public boolean unseenError() {
        return errors != errorsSeen;
    }

    private void publish() {
        published = pages.size();
    }

    /** Pages of {@code [from, to)} not cached: what a write there needs from the budget. */
    public int missing(long from, long to) {
        return (int) (to - from) - pages.subMap(from, to).size();
    }

    /**
     * Holds {@code n} pages of the budget for coming writes (what is held already counts),
     * evicting this file's clean pages first if it must; false when there are not enough.
     */
    public boolean reserve(int n, long keepFrom, long keepTo) {
        int more = n - reserved;
        if (more <= 0) {
            return true;
        }
        if (!cache.take(more)) {
            evictClean(more, keepFrom, keepTo);
            if (!cache.take(more)) {
                return false;
            }
        }
        reserved = n;
        return true;
    }

    /** Gives back what {@link #reserve} took and no write used. */
    public void unreserve() {
        int n = reserved;
        reserved = 0;
        cache.give(n);
    }

    /**
     * Copies {@code len} bytes into page {@code index} at {@code from} and marks it dirty; an
     * uncached page is made from a reserved one (zeros but for what is copied). {@code overHole}:
     * its block is a hole, and the caller reserved a block for it unless {@link #delayed} said so.
     */
    public void write(long index, int from, byte[] src, int srcOffset, int len, long now, boolean overHole) {
        Page page = pages.get(index);
        if (page == null) {
            if (reserved == 0) {
                throw new IllegalStateException("write to page " + index + " of inode " + ino + " without a reserved page");
            }
            reserved--;
            page = new Page(index, new byte[PAGE]);
            pages.put(index, page);
            publish();
        }
        System.arraycopy(src, srcOffset, page.data, from, len);
        page.dropAfterWriteback = false;
        if (overHole && !page.delayed) {
            page.delayed = true;
            delayedPages++;
        }
        lastUse = now;
        if (!page.dirty) {
            page.dirty = true;
            page.dirtiedAt = now;
            clean.remove(index);
            dirtyOrder.put(index, page);
            dirtyIndex.add(index);
            cache.dirtied(1);
            if (oldestDirty == Long.MAX_VALUE) {
                oldestDirty = now;
            }
        }
    }

    /** The page first dirtied among those not under writeback, or -1. */
    public long oldestDirtyIndex() {
        for (Page page : dirtyOrder.values()) {
            if (!page.writeback) {
                return page.index;
            }
        }
        return -1;
    }

    /** When the page {@link #oldestDirtyIndex} names was dirtied. */
    public long dirtiedAt(long index) {
        Page page = pages.get(index);
        return page == null ? Long.MAX_VALUE : page.dirtiedAt;
    }

    /** The first dirty page in {@code [from, to)} not under writeback, or -1. */
    public long firstDirty(long from, long to) {
        for (Long index = dirtyIndex.ceiling(from); index != null && index < to; index = dirtyIndex.higher(index)) {
            if (!pages.get(index).writeback) {
                return index;
            }
        }
        return -1;
    }

    /**
     * Takes the dirty pages from {@code start} on, consecutive, none under writeback, at most
     * {@code max}, for writeback: clean from now (clear_page_dirty_for_io) and under writeback.
     */
    public PageRun takeRun(long start, int max) {
        int count = 0;
        while (count < max) {
            Page page = pages.get(start + count);
            if (page == null || !page.dirty || page.writeback) {
                break;
            }
            count++;
        }
        byte[] data = new byte[count * PAGE];
        for (int i = 0; i < count; i++) {
            Page page = pages.get(start + i);
            System.arraycopy(page.data, 0, data, i * PAGE, PAGE);
            page.dirty = false;
            page.writeback = true;
            dirtyOrder.remove(page.index);
            dirtyIndex.remove(page.index);
        }
        underWriteback += count;
        cache.writingBack(count);
        cache.dirtied(-count);
        updateOldest();
        return new PageRun(start, count, data);
    }

    /**
     * The run's writeback ended. Its pages are clean unless written again meanwhile; a failure
     * leaves them clean too (their data is not on the device: the error goes to the next fsync,
     * as mapping_set_error).
     */
    public void writebackDone(PageRun run, boolean ok) {
        tracked.remove(run.first());
        int dropped = 0;
        for (long index = run.first(); index < run.end(); index++) {
            Page page = pages.get(index);
            if (page == null || !page.writeback) {
                continue;
            }
            page.writeback = false;
            underWriteback--;
            cache.writingBack(-1);
            if (page.delayed) {
                page.delayed = false;
                delayedPages--;
            }
            if (page.dirty) {
                continue;
            }
            if (page.dropAfterWriteback) {
                pages.remove(index);
                dropped++;
            } else {
                clean.put(index, page);
            }
        }
        if (!ok) {
            errors++;
        }
        cache.writtenBack.add(run.count());
        publish();
        cache.give(dropped);
        cache.wake();
    }

    /** Whether any page of {@code [from, to)} is cached (filemap_range_has_page). */
    public boolean hasPages(long from, long to) {
        return !pages.subMap(from, to).isEmpty();
    }

    /** Whether any page of {@code [from, to)} is dirty or under writeback. */
    public boolean busy(long from, long to) {
        for (Page page : pages.subMap(from, to).values()) {
            if (page.dirty || page.writeback) {
                return true;
            }
        }
        return false;
    }

    /**
     * invalidate_inode_pages2_range: drops the clean pages of {@code [from, to)}; a page under
     * writeback goes when that ends. Answers how many were dirty, which stay: a write got in
     * between a direct write and this (dio_warn_stale_pagecache).
     */
    public int invalidate(long from, long to) {
        invalidations++;
        int dirty = 0;
        int dropped = 0;
        Iterator<Page> it = pages.subMap(from, to).values().iterator();
        while (it.hasNext()) {
            Page page = it.next();
            if (page.dirty) {
                dirty++;
            } else if (page.writeback) {
                page.dropAfterWriteback = true;
            } else {
                it.remove();
                clean.remove(page.index);
                dropped++;
            }
        }
        publish();
        cache.give(dropped);
        return dirty;
    }

    /**
     * truncate_pagecache: drops every page from {@code size} on (dirty ones too: their bytes are
     * past the end now) and zeros the cached tail of the page that holds {@code size}. No page
     * there is under writeback: the truncate drained it first.
     */
    public void truncate(long size) {
        long keep = (size + PAGE - 1) / PAGE;
        invalidations++;
        NavigableMap<Long, Page> gone = pages.tailMap(keep, true);
        int dropped = gone.size();
        int dirty = 0;
        for (Page page : gone.values()) {
            clean.remove(page.index);
            if (page.delayed) {
                delayedPages--;
            }
            if (page.dirty) {
                dirty++;
                dirtyOrder.remove(page.index);
                dirtyIndex.remove(page.index);
            }
        }
        gone.clear();
        Page tail = size % PAGE == 0 ? null : pages.get(size / PAGE);
        if (tail != null) {
            Arrays.fill(tail.data, (int) (size % PAGE), PAGE, (byte) 0);
        }
        cache.dirtied(-dirty);
        updateOldest();
        publish();
        cache.give(dropped);
    }

    /** Evicts up to {@code n} clean pages, least recently used first; answers how many. */
    public int evictClean(int n) {
        return evictClean(n, 0, 0);
    }

    /** {@link #evictClean(int)} sparing the pages of {@code [keepFrom, keepTo)} (a write's own). */
    private int evictClean(int n, long keepFrom, long keepTo) {
        int evicted = 0;
        Iterator<Map.Entry<Long, Page>> it = clean.entrySet().iterator();
        while (evicted < n && it.hasNext()) {
            long index = it.next().getKey();
            if (index >= keepFrom && index < keepTo) {
                continue;
            }
            it.remove();
            pages.remove(index);
            evicted++;
        }
        publish();
        cache.reclaimed.add(evicted);
        cache.give(evicted);
        return evicted;
    }

    /** Drops the clean pages; true when nothing else is left (no dirty page, none under writeback). */
    boolean dropClean() {
        evictClean(clean.size());
        return dirtyOrder.isEmpty() && underWriteback == 0;
    }

    void dropAll() {
        int n = pages.size() + reserved;
        cache.dirtied(-dirtyOrder.size());
        pages.clear();
        clean.clear();
        dirtyOrder.clear();
        dirtyIndex.clear();
        reserved = 0;
        delayedPages = 0;
        tracked.clear();
        cache.writingBack(-underWriteback);
        underWriteback = 0;
        oldestDirty = Long.MAX_VALUE;
        publish();
        cache.give(n);
    }

    /**
     * Records that {@code run}'s device writes are all over once {@code landed} completes. The
     * record outlives the actor that took the run: a restarted actor waits for it before it takes
     * those pages again ({@link #abandon}), so an old version never lands over a newer one.
     */
    public void track(PageRun run, CompletableFuture<Void> landed) {
        tracked.put(run.first(), new TrackedRun(run, landed));
    }

    /** A run taken for writeback and the future that completes once none of its device writes is pending. */
    public record TrackedRun(PageRun run, CompletableFuture<Void> landed) {
    }

    /** Runs taken and not ended: a new actor's inheritance when the one that took them stopped. */
    public List<TrackedRun> trackedRuns() {
        return List.copyOf(tracked.values());
    }

    /** The run a stopped actor took has no write pending any more: its pages are dirty again, for the next writeback. */
    public void abandon(PageRun run, long now) {
        tracked.remove(run.first());
        for (long index = run.first(); index < run.end(); index++) {
            Page page = pages.get(index);
            if (page == null || !page.writeback) {
                continue;
            }
            page.writeback = false;
            underWriteback--;
            cache.writingBack(-1);
            if (!page.dirty) {
                page.dirty = true;
                page.dirtiedAt = now;
                dirtyOrder.put(page.index, page);
                dirtyIndex.add(page.index);
                cache.dirtied(1);
            }
        }
        updateOldest();
    }

    /** A write of this file's pages failed or went stale: the next fsync answers EIO (errseq_set). */
    public void setError() {
        errors++;
    }

    /** errseq_check_and_advance: whether an error was set since the last fsync asked. */
    public boolean checkError() {
        boolean fresh = errors != errorsSeen;
        errorsSeen = errors;
        return fresh;
    }

    private void updateOldest() {
        oldestDirty = dirtyOrder.isEmpty() ? Long.MAX_VALUE : dirtyOrder.values().iterator().next().dirtiedAt;
    }
}
