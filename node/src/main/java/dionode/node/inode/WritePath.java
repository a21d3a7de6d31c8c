package dionode.node.inode;

import static dionode.node.inode.InodeState.BLOCK_BITS;

import dionode.node.fs.Inode;
import dionode.node.lock.DioWriteChecks;
import dionode.node.lock.ExtentLookup;
import dionode.node.lock.LockDecision;
import dionode.node.trace.Stage;
import dionode.protocol.Errno;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.concurrent.CompletableFuture;

/**
 * Writes to the device: ext4_dio_write_iter for direct writes (the lock decision of
 * ext4_dio_write_checks, the page cache flushed and invalidated over the range, allocation in
 * ext4_iomap_begin, as unwritten below i_size and written at or past it, the device write,
 * conversion and the size update in ext4_dio_write_end_io, the range invalidated again), and the
 * page cache's writeback, which is the same write without i_rwsem, moving i_disksize only; and
 * fsync. Buffered writes go to the cache ({@link BufferedWrite}). Each write is one
 * {@link WriteOp}. Confined to its inode actor.
 */
final class WritePath {
    /**
     * kiocb_modified: timestamps advance at the coarse clock's granularity (current_time() reads
     * ktime_get_coarse_real_ts64, one jiffy: 4 ms at HZ=250), so a write logs them at most this often.
     */
    static final long TIMESTAMP_GRANULARITY_NANOS = 4_000_000L;

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
        } else if (buffered) {
            BufferedWrite.start(state, reply, write.offset(), write.data(), IoFlags.has(write.flags(), IoFlags.DURABLE), false);
        } else {
            new WriteOp(state, reply, write.offset(), write.data(), write.flags(), -1, null).start();
        }
    }

    /**
     * Writes back {@code data} (whole pages) at {@code offset}; i_disksize may move up to
     * {@code visibleEnd}, the part of the pages inside i_size. {@code done} is completed in the actor;
     * {@code landed} once no device write of it can still be pending.
     */
    static void writeback(InodeState state, CompletableFuture<Reply> done, CompletableFuture<Void> landed, long offset, byte[] data,
            long visibleEnd) {
        new WriteOp(state, done, offset, data, 0, visibleEnd, landed).start();
    }

    /** ext4_dio_write_checks for a direct write on {@code inode} as it is now (explain asks the same). */
    static LockDecision checks(Inode inode, long offset, long length, boolean nowait, ExtentLookup lookup) {
        return DioWriteChecks.decide(offset, length, nowait, inode.size, inode.disksize, inode.nosec(), BLOCK_BITS, lookup,
                inode.policy);
    }

    /**
     * ext4_sync_file: writes back the file's dirty pages and waits for them
     * (file_write_and_wait_range), answers EIO once for a write error or stale page since the last
     * fsync (errseq), then commits the journal; takes no lock.
     */
    static void fsync(InodeState state, CompletableFuture<Reply> reply) {
        state.counters.inc(NodeCounters.DURABLE_COMMITS);
        InodeOp op = new InodeOp(state, reply) {
            @Override
            void granted() {
            }
        };
        state.writeback.flush(op, 0, Long.MAX_VALUE, () -> {
            if (state.pages().checkError()) {
                op.fail(new Reply.Error(Errno.EIO, "data of inode " + state.ino + " written since the last fsync may not be on"
                        + " the device: a writeback failed, or a direct write completed under pages written again (stale page cache)"));
                return;
            }
            op.await(state.volume.journal().commit(), Stage.JOURNAL, () -> op.succeed(new Reply.Done()), op::fail);
        });
    }
}
