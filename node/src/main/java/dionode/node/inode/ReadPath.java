package dionode.node.inode;

import static dionode.node.inode.InodeState.B;

import dionode.node.lock.LockMode;
import dionode.node.trace.Stage;
import dionode.protocol.Errno;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.Wire;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Direct reads: ext4_dio_read_iter, under the shared lock, after the range's dirty pages are
 * written back; buffered ones go through the cache ({@link CachedRead}); holes and unwritten blocks read as zeros, and
 * a read past EOF is short. A DAX file's reads (ext4_dax_read_iter) are the same but for their
 * data path, the mapping. An async read lets the lock go once submitted (-EIOCBQUEUED) and stays
 * counted in the direct I/O in flight until its data is in. Confined to its inode actor.
 */
final class ReadPath {

    private ReadPath() {
    }

    static void start(InodeState state, Request.Read read, CompletableFuture<Reply> reply) {
        // ext4_dax_read_iter: a DAX file is read through the mapping whatever the flags, at any byte range
        boolean dax = state.inode().dax();
        boolean aligned = !dax && !IoFlags.has(read.flags(), IoFlags.BUFFERED);
        Reply.Error bad = RangeChecks.badRange(read.offset(), read.length(), aligned, state.sectorSize, state.inode().maxBytes());
        if (bad != null) {
            state.reply(reply, bad);
        } else if (read.length() > Wire.MAX_IO_BYTES) {
            state.reply(reply, new Reply.Error(Errno.EINVAL, "read of " + read.length() + " bytes exceeds the maximum of "
                    + Wire.MAX_IO_BYTES));
        } else if (!dax && !aligned) {
            CachedRead.start(state, reply, read.offset(), read.length());
        } else {
            boolean nowait = IoFlags.has(read.flags(), IoFlags.NOWAIT);
            new ReadOp(state, reply, read.offset(), read.length(), nowait, IoFlags.has(read.flags(), IoFlags.ASYNC), dax)
                    .acquire(LockMode.SHARED, nowait);
        }
    }

    /** One read, once it holds the shared lock. */
    private static final class ReadOp extends InodeOp {
        private final long offset;
        private final int length;
        private final boolean nowait;
        private final boolean async;
        /** Through the mapping (DaxDataPath): no direct I/O in flight to count, and no async DAX read. */
        private final boolean dax;

        ReadOp(InodeState state, CompletableFuture<Reply> reply, long offset, int length, boolean nowait, boolean async,
                boolean dax) {
            super(state, reply);
            this.offset = offset;
            this.length = length;
            this.nowait = nowait;
            this.async = async && !dax;
            this.dax = dax;
        }

        /** The mapping (ext4_iomap_begin; cache-only under NOWAIT, patch 7), then the device read. */
        @Override
        void granted() {
            // kiocb_write_and_wait: the range's dirty pages reach the device before it is read there
            if (!dax && state.pages().pageCount() > 0 && state.pages().busy(offset / B, (offset + length + B - 1) / B)) {
                if (nowait) {
                    failEagain(NodeCounters.EAGAIN_PAGECACHE, "NOWAIT read over pages that need writeback first");
                    return;
                }
                state.writeback.flush(this, offset, offset + length, this::granted);
                return;
            }
            int count = (int) Math.max(0, Math.min(length, inode().size - offset));
            byte[] dst = new byte[count];
            // the mapping is byte-addressed: its segments are exactly the bytes asked for (a "sector" of 1)
            int sector = dax ? 1 : state.sectorSize;
            List<DataPath.ReadSeg> segs = count == 0 ? List.of()
                    : lookup(() -> IoPlan.read(inode()::map, offset, dst, count, B, sector), nowait, this::granted);
            if (segs == null) {
                return;
            }
            state.counters.inc(NodeCounters.READS);
            state.counters.add(NodeCounters.BYTES_READ, count);
            if (dax) {
                state.counters.inc(NodeCounters.DAX_READS);
            }
            if (segs.isEmpty()) {
                succeed(new Reply.Data(dst));
                return;
            }
            if (dax) {
                await(state.dax.read(segs), Stage.DEVICE, () -> succeed(new Reply.Data(dst)), this::fail);
                return;
            }
            await(state.dio.begin(() -> state.data.read(segs)), Stage.DEVICE, () -> {
                state.dio.end();
                succeed(new Reply.Data(dst));
            }, thrown -> {
                state.dio.end();
                fail(thrown);
            });
            if (async) {
                releaseLock();
            }
        }
    }
}
