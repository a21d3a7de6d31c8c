package dionode.node.inode;

import static dionode.node.inode.InodeState.B;

import dionode.node.extent.ExtentFormat;
import dionode.node.extent.Mapping;
import dionode.node.fs.ExtentSteps;
import dionode.node.fs.Inode;
import dionode.node.journal.Handle;
import dionode.node.lock.LockMode;
import dionode.node.meta.InodeRecord;
import dionode.node.trace.Stage;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The exclusive paths: truncate (ext4_truncate), punch hole (ext4_punch_hole), fallocate
 * (ext4_fallocate), zero range (ext4_zero_range), chmod and unlink's freeing of the file. Each
 * takes {@code i_rwsem} exclusive and drains direct I/O (inode_lock + inode_dio_wait) before it
 * changes anything. Confined to its inode actor.
 */
final class ExtentOps {

    private ExtentOps() {
    }

    static void truncate(InodeState state, CompletableFuture<Reply> reply, long size) {
        exclusive(state, reply, op -> truncate(op, size));
    }

    static void punchHole(InodeState state, CompletableFuture<Reply> reply, long offset, long length) {
        rangeOp(state, reply, offset, length, op -> punch(op, offset, length));
    }

    static void fallocate(InodeState state, CompletableFuture<Reply> reply, long offset, long length, boolean keepSize) {
        if (refusedWithoutExtents(state, reply, "fallocate")) {
            return;
        }
        rangeOp(state, reply, offset, length, op -> fallocate(op, offset, length, keepSize));
    }

    static void zeroRange(InodeState state, CompletableFuture<Reply> reply, long offset, long length) {
        if (refusedWithoutExtents(state, reply, "zero range")) {
            return;
        }
        rangeOp(state, reply, offset, length, op -> zeroRange(op, offset, length));
    }

    /**
     * ext4_fallocate: preallocation and zero range need unwritten extents, which a file without
     * extents cannot record (EOPNOTSUPP, before any lock); punch works on both kinds.
     */
    private static boolean refusedWithoutExtents(InodeState state, CompletableFuture<Reply> reply, String what) {
        if (!state.inode().indirect()) {
            return false;
        }
        state.reply(reply, new Reply.Error(Errno.EOPNOTSUPP, what + " needs a file mapped by extents; '" + state.inode().name
                + "' maps its blocks by ext3-style indirect pointers (put --mapping indirect)"));
        return true;
    }

    static void chmod(InodeState state, CompletableFuture<Reply> reply, int mode) {
        exclusive(state, reply, op -> op.inRecordHandle(false, handle -> {
            op.inode().mode = mode & InodeRecord.MODE_MASK;
            op.inode().ctimeNanos = state.volume.nowNanos();
        }, () -> op.succeed(new Reply.Done())));
    }

    /** unlink of the last name: orphan + unlinked, free every block, then the inode slot. */
    static void delete(InodeState state, CompletableFuture<Reply> reply) {
        exclusive(state, reply, op -> op.inRecordHandle(false,
                handle -> op.inode().flags |= InodeRecord.FLAG_ORPHAN | InodeRecord.FLAG_UNLINKED,
                () -> op.removeBlocks(0, ExtentFormat.MAX_LBLK + 1, () -> clearSlot(op))));
    }

    /**
     * A request that takes i_rwsem exclusive and drains direct I/O first (inode_lock +
     * inode_dio_wait). A range op first writes back and drops the range's pages
     * (filemap_write_and_wait_range + truncate_pagecache_range); from the drain on, no writeback
     * starts until the request ends, since it changes the extents writeback would map.
     */
    private static final class ExclusiveOp extends InodeOp {
        private final Consumer<ExclusiveOp> body;
        private final long flushFrom;
        private final long flushTo;
        private boolean holding;

        ExclusiveOp(InodeState state, CompletableFuture<Reply> reply, Consumer<ExclusiveOp> body, long flushFrom, long flushTo) {
            super(state, reply);
            this.body = body;
            this.flushFrom = flushFrom;
            this.flushTo = flushTo;
        }

        @Override
        void granted() {
            if (flushTo > flushFrom && state.pages().pageCount() > 0) {
                state.writeback.flushOrFail(this, flushFrom, flushTo, () -> {
                    state.pages().invalidate(flushFrom / B, (flushTo + B - 1) / B);
                    drainThenRun();
                });
            } else {
                drainThenRun();
            }
        }

        private void drainThenRun() {
            holding = true;
            state.writeback.hold();
            state.pages().beginMappingChange();
            state.dio.await(this, () -> state.writeback.awaitIdle(this, () -> {
                try {
                    body.accept(this);
                } catch (RuntimeException failure) {
                    fail(failure);
                }
            }));
        }

        @Override
        void ended() {
            if (holding) {
                holding = false;
                state.pages().endMappingChange();
                state.writeback.release();
            }
        }

        /** Logs new mtime and ctime in the step that changed the file. */
        void touch() {
            long now = state.volume.nowNanos();
            inode().mtimeNanos = now;
            inode().ctimeNanos = now;
        }

        /** The last step of a path: the timestamps (and {@code more}), then the answer. */
        void finishTouched(Consumer<Inode> more) {
            inRecordHandle(false, handle -> {
                more.accept(inode());
                touch();
            }, () -> succeed(new Reply.Done()));
        }
    }

    private static void exclusive(InodeState state, CompletableFuture<Reply> reply, Consumer<ExclusiveOp> body) {
        new ExclusiveOp(state, reply, body, 0, 0).acquire(LockMode.EXCLUSIVE, false);
    }

    private static void rangeOp(InodeState state, CompletableFuture<Reply> reply, long offset, long length,
            Consumer<ExclusiveOp> body) {
        if (length <= 0 || offset < 0) {
            state.reply(reply, new Reply.Error(Errno.EINVAL, "offset " + offset + " length " + length));
            return;
        }
        Reply.Error bad = RangeChecks.badRange(offset, length, false, state.sectorSize, state.inode().maxBytes());
        if (bad != null) {
            state.reply(reply, bad);
            return;
        }
        new ExclusiveOp(state, reply, body, offset, offset + length).acquire(LockMode.EXCLUSIVE, false);
    }

    private static void truncate(ExclusiveOp op, long size) {
        Inode inode = op.inode();
        if (size < 0) {
            op.fail(new Reply.Error(Errno.EINVAL, "negative size"));
            return;
        }
        if (size > inode.maxBytes()) {
            op.fail(new Reply.Error(Errno.EFBIG, "size past the maximum file size"));
            return;
        }
        // ext4_setattr: a size at or below i_size truncates, which frees preallocation past the end too
        if (size > inode.size) {
            op.finishTouched(grown -> {
                grown.size = size;
                grown.disksize = size;
            });
            return;
        }
        long keepBlocks = (size + B - 1) / B;
        // ext4_truncate: zero the tail of the new last block, put the inode on the orphan list with
        // the new size, drop the page cache past it (truncate_setsize's order), free the blocks,
        // take it off the list
        zeroPartial(op, size, size % B == 0 ? size : keepBlocks * B, () -> op.inRecordHandle(false, handle -> {
            inode.flags |= InodeRecord.FLAG_ORPHAN;
            inode.size = size;
            inode.disksize = Math.min(inode.disksize, size);
            op.touch();
            op.state.pages().truncate(size);
            op.state.pages().size(size);
            op.state.keepDelayedReservation();
        }, () -> op.removeBlocks(keepBlocks, ExtentFormat.MAX_LBLK + 1, () -> op.inRecordHandle(false,
                handle -> inode.flags &= ~InodeRecord.FLAG_ORPHAN, () -> op.succeed(new Reply.Done())))));
    }

    /**
     * ext4_punch_hole: nothing to do at or past i_size (not even the timestamps); a hole reaching
     * past it ends at the end of the block that holds i_size, so preallocation beyond stays.
     */
    private static void punch(ExclusiveOp op, long offset, long length) {
        long size = op.inode().size;
        if (offset >= size) {
            op.succeed(new Reply.Done());
            return;
        }
        long end = Math.min(offset + length, (size + B - 1) / B * B);
        long first = (offset + B - 1) / B;
        long last = end / B;
        zeroEnds(op, offset, end, () -> op.removeBlocks(first, Math.max(first, last), () -> op.finishTouched(inode -> { })));
    }

    private static void fallocate(ExclusiveOp op, long offset, long length, boolean keepSize) {
        Inode inode = op.inode();
        long end = offset + length;
        long firstBlock = offset / B;
        long endBlock = (end + B - 1) / B;
        Long needed = op.lookup(() -> {
            long holes = inode.holeBlocks(firstBlock, endBlock);
            return holes + inode.reserveGrowth(holes);
        }, false, () -> fallocate(op, offset, length, keepSize));
        if (needed == null) {
            return;
        }
        op.ensureSpace(needed, "fallocate", () -> allocateBlocks(op, firstBlock, endBlock, () -> op.finishTouched(grown -> {
            if (!keepSize && end > grown.size) {
                grown.size = end;
                grown.disksize = end;
            }
        })));
    }

    /** FALLOC_FL_ZERO_RANGE: partial blocks zeroed in place, whole blocks allocated and made unwritten. */
    private static void zeroRange(ExclusiveOp op, long offset, long length) {
        Inode inode = op.inode();
        long end = offset + length;
        long first = (offset + B - 1) / B;
        long last = end / B;
        Long needed = op.lookup(() -> (first < last ? inode.holeBlocks(first, last) : 0)
                + inode.reserveGrowth(Math.max(0, last - first)), false, () -> zeroRange(op, offset, length));
        if (needed == null) {
            return;
        }
        long wholeEnd = Math.max(first, last);
        op.ensureSpace(needed, "zero range", () -> zeroEnds(op, offset, end,
                () -> op.runSteps(ExtentSteps.Kind.TO_UNWRITTEN, first, wholeEnd, blocks -> { },
                        () -> allocateBlocks(op, first, wholeEnd, () -> op.finishTouched(grown -> {
                            if (end > grown.size) {
                                grown.size = end;
                                grown.disksize = end;
                            }
                        })))));
    }

    /** Allocates the holes of {@code [from, to)} as unwritten (ext4_alloc_file_blocks), then {@code next}. */
    private static void allocateBlocks(ExclusiveOp op, long from, long to, Runnable next) {
        op.runSteps(ExtentSteps.Kind.ALLOCATE, from, to, blocks -> op.state.counters.add(NodeCounters.ALLOCATED_BLOCKS, blocks),
                next);
    }

    /**
     * Zeros bytes {@code [from, to)} inside written blocks by reading and rewriting those blocks
     * (ext4_block_zero_page_range); holes and unwritten blocks already read as zeros.
     */
    private static void zeroPartial(ExclusiveOp op, long from, long to, Runnable next) {
        if (from >= to) {
            next.run();
            return;
        }
        long blk = from / B;
        Mapping mapping = op.lookup(() -> op.inode().map(blk, 1), false, () -> zeroPartial(op, from, to, next));
        if (mapping == null) {
            return;
        }
        if (!mapping.written()) {
            next.run();
            return;
        }
        byte[] block = new byte[B];
        DataPath data = op.state.fileData();
        CompletableFuture<Void> read = data.read(List.of(new DataPath.ReadSeg(mapping.pblk() * B, B, block, 0, 0, B)));
        op.await(read, Stage.DEVICE, () -> {
            Arrays.fill(block, (int) (from - blk * B), (int) (to - blk * B), (byte) 0);
            CompletableFuture<Void> write = data.write(List.of(new DataPath.WriteSeg(mapping.pblk() * B, B, block, 0, 0, B)));
            op.await(write, Stage.DEVICE, next, op::fail);
        }, op::fail);
    }

    /** Zeros the partial blocks at the ends of {@code [offset, end)}; the whole blocks inside are next's. */
    private static void zeroEnds(ExclusiveOp op, long offset, long end, Runnable next) {
        long headEnd = Math.min(end, (offset + B - 1) / B * B);
        long tailStart = Math.max(headEnd, end / B * B);
        zeroPartial(op, offset, headEnd, () -> zeroPartial(op, tailStart, end, next));
    }

    /** Frees the inode slot in a handle of its own; the file is then gone for every later request. */
    private static void clearSlot(ExclusiveOp op) {
        Handle handle = op.handleOrPark(1, false, () -> clearSlot(op));
        if (handle == null) {
            return;
        }
        try {
            op.state.volume.inodes().clear(handle, op.state.ino);
        } finally {
            handle.close();
        }
        op.state.markUnlinked();
        op.succeed(new Reply.Done());
    }
}
