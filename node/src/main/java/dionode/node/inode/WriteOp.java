package dionode.node.inode;

import static dionode.node.inode.InodeState.B;

import dionode.node.alloc.BlockAllocator;
import dionode.node.extent.ExtentFormat;
import dionode.node.fs.Inode;
import dionode.node.fs.StepResult;
import dionode.node.journal.Handle;
import dionode.node.extent.Mapping;
import dionode.node.lock.DioWriteChecks;
import dionode.node.lock.ExtentLookup;
import dionode.node.lock.LockDecision;
import dionode.node.lock.LockMode;
import dionode.node.meta.InodeRecord;
import dionode.node.trace.Stage;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One write to the device, from the lock decision to its answer: a direct write, or a run of the
 * page cache's writeback (no {@code i_rwsem}, no timestamps, i_disksize only). {@link WritePath}
 * makes them. Confined to its inode actor.
 */
final class WriteOp extends InodeOp {
    private static final Logger LOG = LoggerFactory.getLogger(WriteOp.class);

    private final long offset;
    private final byte[] data;
    private final int length;
    private final long end;
    private final boolean nowait;
    private final boolean async;
    private final boolean durable;
    /** The page cache's writeback: no i_rwsem, no timestamps, and i_disksize moves up to {@link #visibleEnd}. */
    private final boolean writeback;
    private final long visibleEnd;
    /** Writeback's: completed once no device write of this op can be pending (it outlives a restart's answer). */
    private final CompletableFuture<Void> landed;
    /** The last device write submitted, or null. */
    private CompletableFuture<Void> io;
    /**
     * Writeback allocating inside i_disksize in a file without extents: each step's handle
     * stays open until the data of its blocks is on the device.
     */
    private boolean ordered;
    private LockDecision decision;
    /** First block of the write, and the block after its last. */
    private long firstBlock;
    private long endBlock;
    private long allocatePosition;
    /** Holes from this block on are allocated written: they lie at or past i_size (ext4_iomap_alloc). */
    private long writtenFrom = Long.MAX_VALUE;
    private long convertPosition;
    private boolean orphanSet;
    /** i_size/i_disksize were moved (the extending write's last step). */
    private boolean sized;
    private boolean holdingWriteback;
    /** Between inode_dio_begin and _end: however the write ends, its I/O must stop counting as in flight. */
    private boolean inDio;
    private long allocated;
    private long converted;
    /** The latest lock decision's cache-only lookups missed (its EAGAIN is the cache's). */
    private boolean missed;

    /** @param visibleEnd -1 for a direct write; for writeback, where the pages' bytes inside i_size end */
    WriteOp(InodeState state, CompletableFuture<Reply> reply, long offset, byte[] data, int flags, long visibleEnd,
            CompletableFuture<Void> landed) {
        super(state, reply);
        this.offset = offset;
        this.data = data;
        this.length = data.length;
        this.end = offset + data.length;
        this.nowait = IoFlags.has(flags, IoFlags.NOWAIT);
        this.async = IoFlags.has(flags, IoFlags.ASYNC);
        this.durable = IoFlags.has(flags, IoFlags.DURABLE);
        this.writeback = visibleEnd >= 0;
        this.visibleEnd = visibleEnd;
        this.landed = landed;
    }

    /**
     * ext4_dio_write_checks on the inode as it is now; under NOWAIT its lookups are cache-only
     * and a miss is an unknown mapping (patch 8: needs zeroing, so exclusive, so EAGAIN).
     */
    private LockDecision decide() {
        Inode inode = inode();
        missed = false;
        ExtentLookup lookup = !nowait ? inode::map : (lblk, len) -> {
            Mapping mapping = inode.mapCached(lblk, len);
            missed |= mapping == null;
            return mapping;
        };
        return WritePath.checks(inode, offset, length, nowait, lookup);
    }

    /** The NOWAIT refusal of a decision that needs the exclusive lock. */
    private void refuse(LockDecision exclusive) {
        failEagain(missed ? NodeCounters.EAGAIN_CACHE : NodeCounters.EAGAIN_LOCK,
                "NOWAIT write needs the exclusive lock (" + exclusive.rule() + (missed ? ", extents not in memory" : "") + ")");
    }

    void start() {
        if (writeback) {
            Inode inode = inode();
            decision = LockDecision.buffered(DioWriteChecks.extendingIo(offset, visibleEnd - offset, inode.size, inode.disksize));
            mapAndAllocate();
            return;
        }
        try {
            decision = lookup(this::decide, nowait, this::start);
        } catch (RuntimeException failure) {
            fail(failure);
            return;
        }
        if (decision == null) {
            return;
        }
        if (decision.eagain()) {
            refuse(decision);
            return;
        }
        acquire(decision.mode(), nowait);
    }

    @Override
    void granted() {
        // ext4_dio_write_checks runs again under the lock: the file may have changed while we waited
        LockDecision now = lookup(this::decide, nowait, this::granted);
        if (now == null) {
            return;
        }
        if (now.exclusive() && held() == LockMode.SHARED) {
            if (nowait) {
                refuse(now);
                return;
            }
            if (!tryUpgrade()) {
                state.counters.inc(NodeCounters.LOCK_UPGRADES);
                releaseLock();
                acquire(LockMode.EXCLUSIVE, false);
                return;
            }
        }
        decision = now;
        Runnable next = now.inodeDioWait() ? () -> state.dio.await(this, this::mapAndAllocate) : this::mapAndAllocate;
        invalidatePages(now.extending() && inode().indirect() ? () -> holdWriteback(next) : next);
    }

    /**
     * An extending direct write to a file without extents moves i_disksize over whatever lies
     * below its end; writeback there allocates written blocks before their data is in, so none
     * may run meanwhile: new runs are held off and those in flight waited for.
     */
    private void holdWriteback(Runnable next) {
        if (!holdingWriteback) {
            holdingWriteback = true;
            state.writeback.hold();
        }
        state.writeback.awaitIdle(this, next);
    }

    @Override
    void ended() {
        if (landed != null) {
            if (io == null) {
                landed.complete(null);
            } else {
                io.whenComplete((v, thrown) -> landed.complete(null));
            }
        }
        if (holdingWriteback) {
            holdingWriteback = false;
            state.writeback.release();
        }
    }

    /**
     * kiocb_invalidate_pages: the range's dirty pages written back and waited for, then its
     * pages dropped. One dirtied again meanwhile (possible only while another write let its
     * lock go) cannot be dropped: the write falls back to buffered, as -ENOTBLK does.
     */
    private void invalidatePages(Runnable next) {
        if (state.pages().pageCount() == 0) {
            next.run();
            return;
        }
        long first = offset / B;
        long last = (end + B - 1) / B;
        if (nowait && state.pages().hasPages(first, last)) {
            failEagain(NodeCounters.EAGAIN_PAGECACHE, "NOWAIT write over cached pages, which must be written back and dropped first");
            return;
        }
        state.writeback.flushOrFail(this, offset, end, () -> {
            if (state.pages().invalidate(first, last) > 0) {
                fallBackToBuffered();
            } else {
                next.run();
            }
        });
    }

    /**
     * ext4_iomap_begin: NOWAIT refusals first (nothing changed yet; lookups cache-only, patch
     * 7), then allocation: unwritten below i_size, written at or past it (an extending write's
     * orphan entry and i_disksize protect those). A write over allocated blocks promises no new
     * unwritten space, so it needs no free blocks and no look at the whole tree.
     */
    private void mapAndAllocate() {
        firstBlock = offset / B;
        endBlock = (offset + data.length + B - 1) / B;
        Long holes = lookup(() -> inode().holeBlocks(firstBlock, endBlock), nowait, this::mapAndAllocate);
        if (holes == null) {
            return;
        }
        if (nowait && holes > 0) {
            failEagain(NodeCounters.EAGAIN_ALLOC, "NOWAIT write would allocate " + holes + " blocks");
            return;
        }
        Long needed = holes == 0 ? Long.valueOf(0) : lookup(() -> holes + inode().reserveGrowth(holes), false,
                this::mapAndAllocate);
        if (needed == null) {
            return;
        }
        // writeback may allocate written past i_disksize: what is there is hidden by it and the orphan entry
        // writeback into a file with extents allocates unwritten everywhere (dioread_nolock's
        // EXT4_GET_BLOCKS_IO_CREATE_EXT): an extending direct write may move i_disksize past its blocks
        // before their data is in; without extents it allocates written past i_disksize, which the
        // orphan entry covers and extending direct writes wait out (holdWriteback)
        writtenFrom = !extending() || (writeback && !inode().indirect()) ? Long.MAX_VALUE
                : ((writeback ? inode().disksize : inode().size) + B - 1) / B;
        Long inside = holes == 0 || !inode().indirect() ? Long.valueOf(0)
                : lookup(() -> inode().holeBlocks(firstBlock, Math.min(endBlock, writtenFrom)), false, this::mapAndAllocate);
        if (inside == null) {
            return;
        }
        if (inside > 0 && !writeback) {
            fallBackToBuffered();
            return;
        }
        ordered = inside > 0;
        // writeback's data blocks were reserved by the buffered writes: only the rest must be free now
        long unreserved = writeback ? Math.max(0, needed - state.volume.allocator().reservation(reservation())) : needed;
        ensureSpace(unreserved, "write", () -> {
            allocatePosition = holes == 0 ? endBlock : firstBlock;
            if (ordered) {
                orderedStep();
            } else {
                metaStep();
            }
        });
    }

    /**
     * ext4_dio_write_iter on -ENOTBLK: a file without extents cannot allocate unwritten blocks
     * inside i_size (ext4_iomap_alloc leaves m_flags 0), so the direct write lets its lock go
     * and runs as a buffered write (exclusive, after draining direct I/O: patch 2), then
     * flushes and invalidates its range.
     */
    private void fallBackToBuffered() {
        state.counters.inc(NodeCounters.DIO_FALLBACKS);
        passOn();
        BufferedWrite.start(state, reply(), offset, data, durable, true);
    }

    /** Writeback allocates the blocks its buffered writes reserved (ext4_da_update_reserve_space); a direct write reserved none. */
    private long reservation() {
        return writeback ? BlockAllocator.delayedKey(state.ino) : BlockAllocator.NO_RESERVATION;
    }

    /**
     * Blocks allocated written past i_disksize need the orphan entry until i_disksize covers them:
     * an extending direct write's, and writeback's in a file without extents (elsewhere writeback
     * allocates unwritten, which a crash leaves as preallocation).
     */
    private boolean needsOrphan() {
        return extending() && (!writeback || inode().indirect());
    }

    private boolean extending() {
        return decision.extending();
    }

    /** The metadata before the I/O: privileges, orphan entry, timestamps, allocation; as many steps as it takes. */
    private void metaStep() {
        Inode inode = inode();
        boolean timestamps = !writeback && state.volume.nowNanos() - inode.mtimeNanos >= WritePath.TIMESTAMP_GRANULARITY_NANOS;
        if (allocatePosition >= endBlock && (!needsOrphan() || orphanSet) && (writeback || inode.nosec()) && !timestamps) {
            submit();
            return;
        }
        int maxExtents = inode.extentsPerStep();
        Consumer<Handle> work = handle -> {
            recordChanges(inode);
            if (allocatePosition < endBlock) {
                StepResult step = inode.allocate(handle, allocatePosition, endBlock, maxExtents, nowait, writtenFrom, reservation());
                allocatePosition = step.next();
                allocated += step.blocks();
            }
        };
        // a step that allocates works on the whole tree; one of times and flags only needs no extent block
        if (allocatePosition < endBlock) {
            inHandle(inode.stepCredits(maxExtents), nowait, work, this::metaStep);
        } else {
            inRecordHandle(nowait, work, this::metaStep);
        }
    }

    /**
     * What a write's first step logs of the record: privileges (file_remove_privs), the orphan
     * entry, timestamps; writeback only the orphan entry (the buffered write did the rest).
     */
    private void recordChanges(Inode inode) {
        if (needsOrphan() && !orphanSet) {
            state.holdOrphan();
            orphanSet = true;
        }
        if (writeback) {
            return;
        }
        long now = state.volume.nowNanos();
        if (!inode.nosec()) {
            inode.mode &= ~(InodeRecord.S_ISUID | InodeRecord.S_ISGID);
        }
        inode.mtimeNanos = now;
        inode.ctimeNanos = now;
    }

    /**
     * Writeback into holes of a file without extents: no unwritten state to hide the
     * blocks behind, so each step allocates them written and keeps its handle open until the
     * data of the step's blocks is on the device (ext3's data=ordered: the transaction that
     * maps them cannot commit before their data is written). As many steps as it takes.
     */
    private void orderedStep() {
        Inode inode = inode();
        int maxExtents = inode.extentsPerStep();
        Handle handle = handleOrPark(inode.stepCredits(maxExtents), false, this::orderedStep);
        if (handle == null) {
            return;
        }
        long from = allocatePosition;
        IoPlan.Write plan;
        try {
            recordChanges(inode);
            StepResult step = inode.allocate(handle, from, endBlock, maxExtents, false, from, reservation());
            allocatePosition = step.next();
            allocated += step.blocks();
            long lo = Math.max(offset, from * B);
            long hi = Math.min(offset + data.length, allocatePosition * B);
            byte[] part = lo == offset && hi == offset + data.length ? data
                    : Arrays.copyOfRange(data, (int) (lo - offset), (int) (hi - offset));
            plan = IoPlan.write(inode::map, lo, part, part.length, B, Long.MAX_VALUE);
        } catch (RuntimeException failure) {
            inode.abortStep(handle);
            fail(failure);
            return;
        }
        io = state.data.write(plan.segs());
        await(io, Stage.DEVICE, () -> {
            try {
                inode().commitStep(handle);
            } catch (RuntimeException failure) {
                fail(failure);
                return;
            }
            if (allocatePosition < endBlock) {
                orderedStep();
                return;
            }
            convertPosition = firstBlock;
            convertStep();
        }, thrown -> {
            inode().abortStep(handle);
            fail(thrown);
        });
    }

    private void count(long zeroedBlocks) {
        state.counters.add(NodeCounters.ZEROED_BLOCKS, zeroedBlocks);
        state.counters.add(NodeCounters.ALLOCATED_BLOCKS, allocated);
        state.counters.inc(NodeCounters.WRITES);
        state.counters.add(NodeCounters.BYTES_WRITTEN, length);
        state.counters.inc(held() == LockMode.EXCLUSIVE ? NodeCounters.WRITE_EXCLUSIVE : NodeCounters.WRITE_SHARED);
        state.counters.inc(NodeCounters.writeRule(decision.rule()));
    }

    /** The device write (iomap_dio_rw); an async write lets a shared lock go once it is submitted. */
    private void submit() {
        IoPlan.Write plan = lookup(() -> IoPlan.write(inode()::map, offset, data, data.length, B, writtenFrom), nowait, this::submit);
        if (plan == null) {
            return;
        }
        if (writeback) {
            io = state.data.write(plan.segs());
        } else {
            count(plan.zeroedBlocks());
            inDio = true;
            io = state.dio.begin(() -> state.data.write(plan.segs()));
        }
        if (async && !decision.forceWait()) {
            releaseLock();
        }
        convertPosition = firstBlock;
        await(io, Stage.DEVICE, this::convertStep, this::fail);
    }

    /** ext4_dio_write_end_io: unwritten to written, then i_size/i_disksize for an extending write. */
    private void convertStep() {
        Inode inode = inode();
        Boolean unwritten = lookup(() -> convertPosition < endBlock && inode.anyUnwritten(convertPosition, endBlock), false,
                this::convertStep);
        if (unwritten == null) {
            return;
        }
        boolean convert = unwritten;
        if (!convert && !(extending() && !sized && (orphanSet || writeback))) {
            completed();
            return;
        }
        int maxExtents = inode.extentsPerStep();
        Consumer<Handle> work = handle -> {
            if (convert) {
                StepResult step = inode.convertWritten(convertPosition, endBlock, maxExtents);
                convertPosition = step.next();
                converted += step.blocks();
            } else {
                convertPosition = endBlock;
            }
            if (convertPosition >= endBlock && extending()) {
                sized = true;
                if (writeback) {
                    inode.disksize = Math.max(inode.disksize, Math.min(visibleEnd, inode.size));
                } else {
                    inode.size = Math.max(inode.size, end);
                    inode.disksize = Math.max(inode.disksize, end);
                }
                if (orphanSet) {
                    state.releaseOrphan();
                    orphanSet = false;
                }
            }
        };
        if (convert) {
            inHandle(inode.stepCredits(maxExtents), false, work, this::convertStep);
        } else {
            inRecordHandle(false, work, this::convertStep);
        }
    }

    private void completed() {
        state.counters.add(NodeCounters.CONVERTED_BLOCKS, converted);
        // iomap_dio_complete: the invalidation comes before inode_dio_end, so a drained buffered write cannot slip in between
        if (!writeback) {
            invalidateAfter();
        }
        endDio();
        if (durable) {
            state.counters.inc(NodeCounters.DURABLE_COMMITS);
            await(state.volume.journal().commit(), Stage.JOURNAL, () -> succeed(new Reply.Written(length)), this::fail);
        } else {
            succeed(new Reply.Written(length));
        }
    }

    /**
     * kiocb_invalidate_post_direct_write: drops the range's pages again; one dirtied while the
     * data went to the device means the cache now disagrees with it (dio_warn_stale_pagecache):
     * counted, and the next fsync answers EIO.
     */
    private void invalidateAfter() {
        if (state.pages().pageCount() == 0 || state.pages().invalidate(offset / B, (end + B - 1) / B) == 0) {
            return;
        }
        state.counters.inc(NodeCounters.STALE_PAGECACHE);
        state.pages().setError();
        LOG.warn("inode {}: page cache invalidation failed after a direct write at {} (+{}): a page was written again "
                + "meanwhile; the next fsync answers EIO", state.ino, offset, length);
    }

    private void endDio() {
        if (inDio) {
            inDio = false;
            state.dio.end();
        }
    }

    /**
     * A failed write (its data did not reach the device, or a conversion after it failed)
     * stops counting as direct I/O in flight, or every later inode_dio_wait (truncate, unlink)
     * would wait for it forever. A failed extending write first gives back the blocks it
     * allocated past i_size and leaves the orphan list (ext4_truncate_failed_write); a failure
     * of that cleanup leaves it to mount.
     */
    @Override
    void fail(Throwable thrown) {
        Reply.Error error = state.failure(thrown);
        if (!orphanSet || inode() == null) {
            endDio();
            fail(error);
            return;
        }
        orphanSet = false;
        // writeback's blocks lie past i_disksize (the one run that moves it goes alone), a direct write's past i_size
        long keep = ((writeback ? inode().disksize : inode().size) + B - 1) / B;
        removeBlocks(keep, ExtentFormat.MAX_LBLK + 1, () -> inRecordHandle(false,
                handle -> state.releaseOrphan(), () -> {
                    endDio();
                    fail(error);
                }));
    }
}
