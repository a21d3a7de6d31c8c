package dionode.node.inode;

import static dionode.node.inode.InodeState.B;

import dionode.node.alloc.BlockAllocator;
import dionode.node.cache.FilePages;
import dionode.node.cache.PageCacheHook;
import dionode.node.extent.Mapping;
import dionode.node.fs.Inode;
import dionode.node.lock.LockDecision;
import dionode.node.lock.LockMode;
import dionode.node.meta.InodeRecord;
import dionode.node.trace.Stage;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Buffered writes (ext4_buffered_write_iter, generic_perform_write): under {@code i_rwsem}
 * exclusive, after draining direct I/O in flight (inode_dio_wait, patch 2), the bytes are copied
 * into the file's pages, which become dirty, and i_size grows in memory; the write answers then,
 * and writeback puts the pages on the device later ({@link Writeback}). A partial page not cached
 * is read first. A write that finds no page free asks its own file and the others to give pages
 * back, writing dirty ones back first, and waits, parked (balance_dirty_pages). A durable write
 * (O_DSYNC) flushes its range and commits; a direct write's fallback flushes and invalidates its
 * range before it answers. Confined to its inode actor.
 */
final class BufferedWrite {
    /** Pages a write takes from the budget at a time (at least one when memory is short). */
    private static final int CHUNK_PAGES = 64;

    private BufferedWrite() {
    }

    /** @param fallback a direct write that could not allocate (ext4_dio_write_iter on -ENOTBLK) */
    static void start(InodeState state, CompletableFuture<Reply> reply, long offset, byte[] data, boolean durable,
            boolean fallback) {
        state.counters.inc(NodeCounters.BUFFERED_WRITES);
        new BufferedWriteOp(state, reply, offset, data, durable, fallback).acquire(LockMode.EXCLUSIVE, false);
    }

    private static final class BufferedWriteOp extends InodeOp {
        private final long offset;
        private final byte[] data;
        private final long end;
        private final boolean durable;
        private final boolean fallback;
        /** The next byte to copy. */
        private long pos;
        /** Blocks freed by uncommitted transactions were waited for once. */
        private boolean spaceRetried;
        /** Partial pages read from the device, by index, until copied into the cache. */
        private final Map<Long, byte[]> images = new HashMap<>();

        BufferedWriteOp(InodeState state, CompletableFuture<Reply> reply, long offset, byte[] data, boolean durable,
                boolean fallback) {
            super(state, reply);
            this.offset = offset;
            this.data = data;
            this.end = offset + data.length;
            this.durable = durable;
            this.fallback = fallback;
            this.pos = offset;
        }

        @Override
        void granted() {
            if (state.cacheHook.drainBeforeBufferedWrite()) {
                state.dio.await(this, this::touch);
            } else {
                touch();
            }
        }

        /** file_remove_privs and file_update_time, journaled, before the copy. */
        private void touch() {
            Inode inode = inode();
            long now = state.volume.nowNanos();
            if (inode.nosec() && now - inode.mtimeNanos < WritePath.TIMESTAMP_GRANULARITY_NANOS) {
                copy();
                return;
            }
            inRecordHandle(false, handle -> {
                inode.mode &= ~(InodeRecord.S_ISUID | InodeRecord.S_ISGID);
                inode.mtimeNanos = now;
                inode.ctimeNanos = now;
            }, this::copy);
        }

        /** Copies chunk after chunk into the pages, reading a partial page first when it holds data and is not cached. */
        private void copy() {
            FilePages pages = state.pages();
            while (pos < end) {
                long first = pos / B;
                long chunkEnd = Math.min(end, (first + CHUNK_PAGES) * B);
                long keepTo = (chunkEnd + B - 1) / B;
                if (!pages.reserve(pages.missing(first, keepTo), first, keepTo)) {
                    chunkEnd = Math.min(end, (first + 1) * B);
                    if (!pages.reserve(pages.missing(first, first + 1), first, first + 1)) {
                        waitForPages();
                        return;
                    }
                }
                long last = (chunkEnd + B - 1) / B;
                for (long p = first; p < last; p++) {
                    if (needsImage(pages, p, chunkEnd)) {
                        readPage(p);
                        return;
                    }
                }
                boolean[] holes = lookup(() -> holes(first, last), false, this::copy);
                if (holes == null || !reserveBlocks(pages, first, holes)) {
                    return;
                }
                long now = state.volume.nowNanos();
                for (long p = first; p < last; p++) {
                    long from = Math.max(pos, p * B);
                    long to = Math.min(chunkEnd, (p + 1) * B);
                    boolean hole = holes[(int) (p - first)];
                    byte[] image = images.remove(p);
                    if (image != null && !pages.cached(p)) {
                        pages.write(p, 0, image, 0, B, now, hole);
                    }
                    pages.write(p, (int) (from - p * B), data, (int) (from - offset), (int) (to - from), now, hole);
                }
                pages.unreserve();
                pos = chunkEnd;
            }
            copied();
        }

        /** Which blocks of {@code [first, last)} are holes (an unwritten block is allocated: it needs nothing reserved). */
        private boolean[] holes(long first, long last) {
            boolean[] holes = new boolean[(int) (last - first)];
            for (long b = first; b < last; ) {
                Mapping m = inode().map(b, last - b);
                long runEnd = Math.min(last, b + m.len());
                if (!m.allocated()) {
                    Arrays.fill(holes, (int) (b - first), (int) (runEnd - first), true);
                }
                b = runEnd;
            }
            return holes;
        }

        /**
         * ext4_da_reserve_space: a block for each page over a hole that holds none yet, so that
         * writeback cannot meet a full device; else, once blocks that uncommitted frees hold have
         * been waited for, ENOSPC now (a short write when some bytes are in already).
         */
        private boolean reserveBlocks(FilePages pages, long first, boolean[] holes) {
            int more = 0;
            for (int i = 0; i < holes.length; i++) {
                if (holes[i] && !pages.delayed(first + i)) {
                    more++;
                }
            }
            BlockAllocator allocator = state.volume.allocator();
            if (more == 0 || allocator.reserve(BlockAllocator.delayedKey(state.ino), pages.delayedPages() + more, false)) {
                return true;
            }
            pages.unreserve();
            if (!spaceRetried && more <= allocator.availableBlocks() + allocator.releasingBlocks()) {
                spaceRetried = true;
                state.counters.inc(NodeCounters.ENOSPC_RETRIES);
                await(state.volume.journal().commit(), Stage.JOURNAL, this::copy, this::fail);
            } else if (pos > offset) {
                copied();
            } else {
                fail(new Reply.Error(Errno.ENOSPC, "write needs " + more + " more blocks, " + allocator.availableBlocks() + " free"));
            }
            return false;
        }

        /** A page this write covers only in part, not cached, holding bytes of the file, not read yet. */
        private boolean needsImage(FilePages pages, long p, long chunkEnd) {
            boolean partial = Math.max(pos, p * B) > p * B || Math.min(chunkEnd, (p + 1) * B) < (p + 1) * B;
            return partial && !pages.cached(p) && !images.containsKey(p) && p * B < inode().size;
        }

        /** Reads page {@code p} from the device (holes and unwritten blocks as zeros, nothing past i_size), then copies on. */
        private void readPage(long p) {
            byte[] image = new byte[B];
            List<DataPath.ReadSeg> segs = lookup(() -> IoPlan.read(inode()::map, p * B, image, B, B, state.sectorSize), false,
                    this::copy);
            if (segs == null) {
                return;
            }
            Runnable keep = () -> {
                long inPage = inode().size - p * B;
                if (inPage < B) {
                    Arrays.fill(image, (int) Math.max(0, inPage), B, (byte) 0);
                }
                images.put(p, image);
                copy();
            };
            if (segs.isEmpty()) {
                keep.run();
                return;
            }
            await(state.dio.begin(() -> state.data.read(segs)), Stage.DEVICE, () -> {
                state.dio.end();
                keep.run();
            }, thrown -> {
                state.dio.end();
                fail(thrown);
            });
        }

        /** No page free: write back this file's oldest, ask the others for theirs, and wait for pages. */
        private void waitForPages() {
            pages().unreserve();
            state.writeback.pressure(CHUNK_PAGES);
            state.cache.shrinkOthers(state.ino, CHUNK_PAGES);
            trace.enter(Stage.DEVICE);
            Runnable retry = () -> state.self.tell(new InodeCommand.Resume(state, () -> {
                trace.enter(Stage.ACTOR);
                try {
                    copy();
                } catch (RuntimeException failure) {
                    fail(failure);
                }
            }));
            if (!state.cache.awaitPages(retry)) {
                if (pos > offset) {
                    copied();
                } else {
                    fail(new Reply.Error(Errno.EAGAIN, "the page cache is full and too many writes wait for pages; retry"));
                }
            }
        }

        private FilePages pages() {
            return state.pages();
        }

        /** The bytes up to {@link #pos} are in the cache: i_size grows (i_disksize when writeback puts them on the device). */
        private void copied() {
            Inode inode = inode();
            inode.size = Math.max(inode.size, pos);
            pages().size(inode.size);
            state.counters.inc(NodeCounters.WRITES);
            state.counters.add(NodeCounters.BYTES_WRITTEN, pos - offset);
            state.counters.inc(NodeCounters.WRITE_EXCLUSIVE);
            state.counters.inc(NodeCounters.writeRule(LockDecision.Rule.BUFFERED));
            if (state.cache.overBackgroundThreshold()) {
                state.writeback.pressure(CHUNK_PAGES);
            }
            if (fallback) {
                await(state.cacheHook.at(PageCacheHook.Point.FALLBACK_BEFORE_FLUSH, state.ino), Stage.DEVICE,
                        () -> state.writeback.flushOrFail(this, offset, pos, () -> {
                            pages().invalidate(offset / B, (pos + B - 1) / B);
                            answer();
                        }), this::fail);
            } else if (durable) {
                state.writeback.flushOrFail(this, offset, pos, this::answer);
            } else {
                answer();
            }
        }

        /** generic_write_sync for a durable write: its pages are on the device; the journal commit makes them reachable. */
        private void answer() {
            if (!durable) {
                succeed(new Reply.Written(pos - offset));
                return;
            }
            state.counters.inc(NodeCounters.DURABLE_COMMITS);
            await(state.volume.journal().commit(), Stage.JOURNAL, () -> succeed(new Reply.Written(pos - offset)), this::fail);
        }

        @Override
        void fail(Throwable thrown) {
            pages().unreserve();
            super.fail(thrown);
        }
    }
}
