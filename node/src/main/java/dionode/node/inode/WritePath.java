package dionode.node.inode;

import static dionode.node.inode.InodeState.B;
import static dionode.node.inode.InodeState.BLOCK_BITS;

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
import dionode.protocol.Errno;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Writes: ext4_dio_write_iter for direct writes (the lock decision of ext4_dio_write_checks,
 * allocation in ext4_iomap_begin, as unwritten below i_size and written at or past it, the device
 * write, conversion and the size update in ext4_dio_write_end_io), and ext4_buffered_write_iter
 * for buffered ones (exclusive, draining direct I/O first since patch 2), which become a
 * read-modify-write of whole blocks; and fsync.
 * Each write is one {@link WriteOp}. Confined to its inode actor.
 */
final class WritePath {
    /**
     * kiocb_modified: timestamps advance at the coarse clock's granularity (current_time() reads
     * ktime_get_coarse_real_ts64, one jiffy: 4 ms at HZ=250), so a write logs them at most this often.
     */
    private static final long TIMESTAMP_GRANULARITY_NANOS = 4_000_000L;

    private WritePath() {
    }

    static void start(InodeState state, Request.Write write, CompletableFuture<Reply> reply) {
        boolean buffered = IoFlags.has(write.flags(), IoFlags.BUFFERED);
        Reply.Error bad = RangeChecks.badRange(write.offset(), write.data().length, !buffered, state.sectorSize, state.inode().maxBytes());
        if (bad != null) {
            state.reply(reply, bad);
        } else if (write.data().length == 0) {
            state.reply(reply, new Reply.Written(0));
        } else if (buffered && IoFlags.has(write.flags(), IoFlags.NOWAIT)) {
            state.reply(reply, new Reply.Error(Errno.EOPNOTSUPP, "buffered writes cannot be NOWAIT"));
        } else {
            new WriteOp(state, reply, write.offset(), write.data(), write.flags()).start();
        }
    }

    /** ext4_dio_write_checks for a direct write on {@code inode} as it is now (explain asks the same). */
    static LockDecision checks(Inode inode, long offset, long length, boolean nowait, ExtentLookup lookup) {
        return DioWriteChecks.decide(offset, length, nowait, inode.size, inode.disksize, inode.nosec(), BLOCK_BITS, lookup,
                inode.policy);
    }

    /** ext4_sync_file: commits the journal; takes no lock. */
    static void fsync(InodeState state, CompletableFuture<Reply> reply) {
        state.counters.inc(NodeCounters.DURABLE_COMMITS);
        InodeOp op = new InodeOp(state, reply) {
            @Override
            void granted() {
            }
        };
        op.await(state.volume.journal().commit(), Stage.JOURNAL, () -> op.succeed(new Reply.Done()), op::fail);
    }

    /** One write, from the lock decision to its answer. */
    private static final class WriteOp extends InodeOp {
        private long offset;
        private byte[] data;
        private final int length;
        private final long end;
        private final boolean nowait;
        private final boolean async;
        private final boolean durable;
        /** Not final: a direct write into a hole of a file without extents falls back to buffered. */
        private boolean buffered;
        /**
         * A buffered write allocating inside i_size in a file without extents: each step's handle
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
        /** Between inode_dio_begin and _end: however the write ends, its I/O must stop counting as in flight. */
        private boolean inDio;
        private long allocated;
        private long converted;
        /** The latest lock decision's cache-only lookups missed (its EAGAIN is the cache's). */
        private boolean missed;

        WriteOp(InodeState state, CompletableFuture<Reply> reply, long offset, byte[] data, int flags) {
            super(state, reply);
            this.offset = offset;
            this.data = data;
            this.length = data.length;
            this.end = offset + data.length;
            this.nowait = IoFlags.has(flags, IoFlags.NOWAIT);
            this.async = IoFlags.has(flags, IoFlags.ASYNC);
            this.durable = IoFlags.has(flags, IoFlags.DURABLE);
            this.buffered = IoFlags.has(flags, IoFlags.BUFFERED);
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
            return checks(inode, offset, length, nowait, lookup);
        }

        /** The NOWAIT refusal of a decision that needs the exclusive lock. */
        private void refuse(LockDecision exclusive) {
            failEagain(missed ? NodeCounters.EAGAIN_CACHE : NodeCounters.EAGAIN_LOCK,
                    "NOWAIT write needs the exclusive lock (" + exclusive.rule() + (missed ? ", extents not in memory" : "") + ")");
        }

        void start() {
            if (buffered) {
                state.counters.inc(NodeCounters.BUFFERED_WRITES);
                acquire(LockMode.EXCLUSIVE, false);
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
            if (buffered) {
                state.dio.await(this, this::readModify);
                return;
            }
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
            if (now.inodeDioWait()) {
                state.dio.await(this, this::mapAndAllocate);
            } else {
                mapAndAllocate();
            }
        }

        /** Buffered write: read the partial end blocks that hold data, merge, and write whole blocks. */
        private void readModify() {
            long readFirst = offset / B;
            long readEnd = (end + B - 1) / B;
            byte[] merged = new byte[(int) ((readEnd - readFirst) * B)];
            List<DataPath.ReadSeg> reads = lookup(() -> endBlockReads(readFirst, readEnd, merged), false, this::readModify);
            if (reads == null) {
                return;
            }
            Runnable merge = () -> {
                System.arraycopy(data, 0, merged, (int) (offset - readFirst * B), length);
                offset = readFirst * B;
                data = merged;
                decision = LockDecision.buffered(DioWriteChecks.extendingIo(end - length, length, inode().size, inode().disksize));
                mapAndAllocate();
            };
            if (reads.isEmpty()) {
                merge.run();
            } else {
                await(state.data.read(reads), Stage.DEVICE, merge, this::fail);
            }
        }

        /** The reads of a buffered write's partial end blocks that hold data, into {@code merged}. */
        private List<DataPath.ReadSeg> endBlockReads(long readFirst, long readEnd, byte[] merged) {
            Inode inode = inode();
            List<DataPath.ReadSeg> reads = new ArrayList<>();
            if (offset % B != 0) {
                reads.addAll(IoPlan.read(inode::map, readFirst * B, merged, B, B, state.sectorSize));
            }
            if (end % B != 0 && (readEnd - 1 > readFirst || offset % B == 0)) {
                int tailAt = (int) ((readEnd - 1 - readFirst) * B);
                reads.addAll(IoPlan.read(inode::map, (readEnd - 1) * B, merged, B, B, state.sectorSize).stream()
                        .map(seg -> new DataPath.ReadSeg(seg.deviceOffset(), seg.length(), merged, seg.dstOffset() + tailAt,
                                seg.skip(), seg.copyLength()))
                        .toList());
            }
            return reads;
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
            writtenFrom = extending() ? (inode().size + B - 1) / B : Long.MAX_VALUE;
            Long inside = holes == 0 || !inode().indirect() ? Long.valueOf(0)
                    : lookup(() -> inode().holeBlocks(firstBlock, Math.min(endBlock, writtenFrom)), false, this::mapAndAllocate);
            if (inside == null) {
                return;
            }
            if (inside > 0 && !buffered) {
                fallBackToBuffered();
                return;
            }
            ordered = inside > 0;
            ensureSpace(needed, "write", () -> {
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
         * and runs as a buffered write: exclusive, after draining direct I/O (patch 2).
         */
        private void fallBackToBuffered() {
            state.counters.inc(NodeCounters.DIO_FALLBACKS);
            releaseLock();
            buffered = true;
            start();
        }

        private boolean extending() {
            return decision.extending();
        }

        /** The metadata before the I/O: privileges, orphan entry, timestamps, allocation; as many steps as it takes. */
        private void metaStep() {
            Inode inode = inode();
            boolean timestamps = state.volume.nowNanos() - inode.mtimeNanos >= TIMESTAMP_GRANULARITY_NANOS;
            if (allocatePosition >= endBlock && (!extending() || orphanSet) && inode.nosec() && !timestamps) {
                submit();
                return;
            }
            int maxExtents = inode.extentsPerStep();
            Consumer<Handle> work = handle -> {
                recordChanges(inode);
                if (allocatePosition < endBlock) {
                    StepResult step = inode.allocate(handle, allocatePosition, endBlock, maxExtents, nowait, writtenFrom);
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

        /** What a write's first step logs of the record: privileges (file_remove_privs), the orphan entry, timestamps. */
        private void recordChanges(Inode inode) {
            long now = state.volume.nowNanos();
            if (!inode.nosec()) {
                inode.mode &= ~(InodeRecord.S_ISUID | InodeRecord.S_ISGID);
            }
            if (extending() && !orphanSet) {
                inode.flags |= InodeRecord.FLAG_ORPHAN;
                orphanSet = true;
            }
            inode.mtimeNanos = now;
            inode.ctimeNanos = now;
        }

        /**
         * A buffered write into holes of a file without extents: no unwritten state to hide the
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
                StepResult step = inode.allocate(handle, from, endBlock, maxExtents, false, from);
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
            await(state.data.write(plan.segs()), Stage.DEVICE, () -> {
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
                count(0);
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
            count(plan.zeroedBlocks());
            inDio = true;
            CompletableFuture<Void> io = state.dio.begin(() -> state.data.write(plan.segs()));
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
            if (!convert && !(extending() && orphanSet)) {
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
                    inode.size = Math.max(inode.size, end);
                    inode.disksize = Math.max(inode.disksize, end);
                    inode.flags &= ~InodeRecord.FLAG_ORPHAN;
                    orphanSet = false;
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
            endDio();
            if (durable) {
                state.counters.inc(NodeCounters.DURABLE_COMMITS);
                await(state.volume.journal().commit(), Stage.JOURNAL, () -> succeed(new Reply.Written(length)), this::fail);
            } else {
                succeed(new Reply.Written(length));
            }
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
            long keep = (inode().size + B - 1) / B;
            removeBlocks(keep, ExtentFormat.MAX_LBLK + 1, () -> inRecordHandle(false,
                    handle -> inode().flags &= ~InodeRecord.FLAG_ORPHAN, () -> {
                        endDio();
                        fail(error);
                    }));
        }
    }
}
