package dionode.node.inode;

import static dionode.node.inode.InodeState.B;

import dionode.node.extent.ExtentFormat;
import dionode.node.extent.Mapping;
import dionode.node.fs.Inode;
import dionode.node.fs.StepResult;
import dionode.node.journal.Handle;
import dionode.node.lock.LockMode;
import dionode.node.meta.InodeRecord;
import dionode.node.trace.Stage;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Writes of DAX files (DESIGN §4): ext4_dax_write_iter (their reads are {@link ReadPath}'s, over the
 * mapping). Data goes
 * through the device's mapping ({@link DaxDataPath}) whatever the request's direct or buffered
 * flag, as on ext4 mounted {@code -o dax}: any byte offset and length, no direct I/O in flight, and
 * the lock held until the copy is done (there is no async DAX I/O). Confined to its inode actor.
 */
final class DaxPath {
    /** kiocb_modified's granularity, as for direct writes (WritePath): one jiffy of the coarse clock. */
    private static final long TIMESTAMP_GRANULARITY_NANOS = 4_000_000L;

    private DaxPath() {
    }

    /** ext4_dax_write_iter: the exclusive lock, a trylock under NOWAIT. */
    static void write(InodeState state, Request.Write write, CompletableFuture<Reply> reply) {
        Reply.Error bad = RangeChecks.badRange(write.offset(), write.data().length, false, state.sectorSize, state.inode().maxBytes());
        if (bad != null) {
            state.reply(reply, bad);
        } else if (write.data().length == 0) {
            state.reply(reply, new Reply.Written(0));
        } else {
            boolean nowait = IoFlags.has(write.flags(), IoFlags.NOWAIT);
            new WriteOp(state, reply, write, nowait).acquire(LockMode.EXCLUSIVE, nowait);
        }
    }

    /** One DAX write, from the exclusive lock to its answer. */
    private static final class WriteOp extends InodeOp {
        private final long offset;
        private final byte[] data;
        private final long end;
        private final boolean nowait;
        private final boolean durable;
        private final long firstBlock;
        private final long endBlock;
        /** offset + count > i_disksize: an orphan entry until i_disksize is updated. */
        private boolean extend;
        private boolean orphanSet;
        private long allocated;
        private long zeroed;

        WriteOp(InodeState state, CompletableFuture<Reply> reply, Request.Write write, boolean nowait) {
            super(state, reply);
            this.offset = write.offset();
            this.data = write.data();
            this.end = offset + data.length;
            this.nowait = nowait;
            this.durable = IoFlags.has(write.flags(), IoFlags.DURABLE);
            this.firstBlock = offset / B;
            this.endBlock = (end + B - 1) / B;
        }

        /**
         * Under the lock: ext4_write_checks, then the extension check of patch 9, then what
         * dax_iomap_rw's iomap_begin would need. Every NOWAIT refusal comes before any handle.
         */
        @Override
        void granted() {
            Inode inode = inode();
            // file_remove_privs under IOCB_NOWAIT: clearing setuid/setgid would sleep
            if (nowait && !inode.nosec()) {
                failEagain(NodeCounters.EAGAIN_LOCK, "NOWAIT DAX write must clear setuid/setgid bits");
                return;
            }
            extend = end > inode.disksize;
            // patch 9: ext4_journal_start for the orphan entry may sleep, so NOWAIT answers EAGAIN before it
            if (nowait && extend) {
                failEagain(NodeCounters.EAGAIN_JOURNAL, "NOWAIT DAX write extends the file past i_disksize (" + inode.disksize
                        + " bytes, the write ends at " + end + "): it needs a journal handle; retry without NOWAIT");
                return;
            }
            Long notWritten = lookup(() -> notWritten(inode, firstBlock, endBlock), nowait, this::granted);
            if (notWritten == null) {
                return;
            }
            // patch 1: allocating (or converting and zeroing unwritten blocks) may sleep
            if (nowait && notWritten > 0) {
                failEagain(NodeCounters.EAGAIN_ALLOC, "NOWAIT DAX write would allocate or zero " + notWritten + " blocks");
                return;
            }
            Long holes = lookup(() -> inode.holeBlocks(firstBlock, endBlock), false, this::granted);
            if (holes == null) {
                return;
            }
            ensureSpace(holes, "DAX write", this::metaStep);
        }

        /** kiocb_modified (privileges, timestamps) and, for an extending write, ext4_orphan_add: one record step. */
        private void metaStep() {
            Inode inode = inode();
            boolean timestamps = state.volume.nowNanos() - inode.mtimeNanos >= TIMESTAMP_GRANULARITY_NANOS;
            if (inode.nosec() && !timestamps && !extend) {
                allocStep(firstBlock);
                return;
            }
            inRecordHandle(nowait, handle -> {
                long now = state.volume.nowNanos();
                inode.mode &= ~(InodeRecord.S_ISUID | InodeRecord.S_ISGID);
                inode.mtimeNanos = now;
                inode.ctimeNanos = now;
                if (extend) {
                    inode.flags |= InodeRecord.FLAG_ORPHAN;
                    orphanSet = true;
                }
            }, () -> allocStep(firstBlock));
        }

        /**
         * ext4_iomap_alloc with EXT4_GET_BLOCKS_CREATE_ZERO: holes are allocated written and
         * unwritten blocks converted to written, and every such block is zeroed and flushed
         * through the mapping while the step's handle is still open, so the transaction that makes
         * them written cannot commit before their zeros are on the media: no crash shows stale
         * bytes, and no unwritten extent is left for a reader. As many steps as it takes.
         */
        private void allocStep(long pos) {
            if (pos >= endBlock) {
                copy();
                return;
            }
            Inode inode = inode();
            List<long[]> before = lookup(() -> notWrittenRuns(inode, pos, endBlock), false, () -> allocStep(pos));
            if (before == null) {
                return;
            }
            if (before.isEmpty()) {
                copy();
                return;
            }
            int maxExtents = inode.extentsPerStep();
            Handle handle = handleOrPark(inode.stepCredits(2 * maxExtents), false, () -> allocStep(pos));
            if (handle == null) {
                return;
            }
            trace.enter(Stage.JOURNAL);
            List<DataPath.WriteSeg> zeros;
            long next;
            try {
                StepResult alloc = inode.allocate(handle, pos, endBlock, maxExtents, false, 0);
                allocated += alloc.blocks();
                next = inode.convertWritten(pos, alloc.next(), maxExtents).next();
                zeros = zeroSegs(inode, before, pos, next);
            } catch (RuntimeException failure) {
                inode.abortStep(handle);
                fail(failure);
                return;
            }
            long blocks = zeros.stream().mapToLong(seg -> seg.length() / B).sum();
            await(state.dax.write(zeros), Stage.DEVICE, () -> {
                try {
                    inode().commitStep(handle);
                } catch (RuntimeException failure) {
                    fail(failure);
                    return;
                }
                zeroed += blocks;
                allocStep(next);
            }, thrown -> {
                inode().abortStep(handle);
                fail(thrown);
            });
        }

        /** dax_iomap_rw: the copy into the mapping and its flush, on the I/O side. */
        private void copy() {
            IoPlan.Write plan = lookup(() -> IoPlan.write(inode()::map, offset, data, data.length, B, Long.MAX_VALUE), nowait,
                    this::copy);
            if (plan == null) {
                return;
            }
            state.counters.add(NodeCounters.ALLOCATED_BLOCKS, allocated);
            state.counters.add(NodeCounters.ZEROED_BLOCKS, zeroed);
            state.counters.inc(NodeCounters.WRITES);
            state.counters.inc(NodeCounters.DAX_WRITES);
            state.counters.inc(NodeCounters.WRITE_EXCLUSIVE);
            state.counters.add(NodeCounters.BYTES_WRITTEN, data.length);
            await(state.dax.write(plan.segs()), Stage.DEVICE, this::extended, this::fail);
        }

        /** ext4_handle_inode_extension: i_size and i_disksize after the data, and off the orphan list. */
        private void extended() {
            if (!extend) {
                completed();
                return;
            }
            inRecordHandle(false, handle -> {
                Inode inode = inode();
                inode.size = Math.max(inode.size, end);
                inode.disksize = Math.max(inode.disksize, end);
                inode.flags &= ~InodeRecord.FLAG_ORPHAN;
                orphanSet = false;
            }, this::completed);
        }

        /** generic_write_sync: the data is on the media already; DURABLE commits the metadata that reaches it. */
        private void completed() {
            if (durable) {
                state.counters.inc(NodeCounters.DURABLE_COMMITS);
                await(state.volume.journal().commit(), Stage.JOURNAL, () -> succeed(new Reply.Written(data.length)), this::fail);
            } else {
                succeed(new Reply.Written(data.length));
            }
        }

        /**
         * ext4_inode_extension_cleanup after a failed extending write: the blocks it allocated past
         * i_size go, and the file leaves the orphan list; a failure of that cleanup is mount's.
         */
        @Override
        void fail(Throwable thrown) {
            Reply.Error error = state.failure(thrown);
            if (!orphanSet || inode() == null) {
                fail(error);
                return;
            }
            orphanSet = false;
            long keep = (inode().size + B - 1) / B;
            removeBlocks(keep, ExtentFormat.MAX_LBLK + 1, () -> inRecordHandle(false,
                    handle -> inode().flags &= ~InodeRecord.FLAG_ORPHAN, () -> fail(error)));
        }
    }

    /** Blocks of {@code [from, to)} that are holes or unwritten: what a DAX write must allocate or zero first. */
    private static long notWritten(Inode inode, long from, long to) {
        long blocks = 0;
        for (long[] run : notWrittenRuns(inode, from, to)) {
            blocks += run[1];
        }
        return blocks;
    }

    /** The runs {lblk, len} of {@code [from, to)} that are not written. */
    private static List<long[]> notWrittenRuns(Inode inode, long from, long to) {
        List<long[]> runs = new ArrayList<>();
        for (long pos = from; pos < to; ) {
            Mapping mapping = inode.map(pos, to - pos);
            if (!mapping.written()) {
                runs.add(new long[] {pos, mapping.end() - pos});
            }
            pos = mapping.end();
        }
        return runs;
    }

    /**
     * Zero-writes over the device blocks that the runs {@code before} (not written before the
     * step) map to in {@code [from, to)} now that the step made them written; one per physical run.
     */
    private static List<DataPath.WriteSeg> zeroSegs(Inode inode, List<long[]> before, long from, long to) {
        List<DataPath.WriteSeg> segs = new ArrayList<>();
        for (long[] run : before) {
            long pos = Math.max(from, run[0]);
            long runEnd = Math.min(to, run[0] + run[1]);
            while (pos < runEnd) {
                Mapping mapping = inode.map(pos, runEnd - pos);
                long len = Math.min(mapping.end(), runEnd) - pos;
                if (mapping.written()) {
                    segs.add(new DataPath.WriteSeg(mapping.pblk() * B, (int) (len * B), ZERO, 0, 0, 0));
                }
                pos += len;
            }
        }
        return segs;
    }

    private static final byte[] ZERO = new byte[0];
}
