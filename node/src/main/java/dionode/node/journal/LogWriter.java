package dionode.node.journal;

import static dionode.node.journal.JournalFormat.BLOCK_SIZE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;

/**
 * The log writer (jbd2's commit.c; kept apart from the journal's loop as Ratis keeps
 * {@code SegmentedRaftLogWorker} apart from its output stream): writes a snapshotted
 * transaction's descriptors, images and commit block into the log ring and keeps the ring's
 * head, the next free log block. When the ring has no room for a transaction it checkpoints
 * first ({@link Checkpointer}, which owns the tail), so the log restarts at block 1.
 *
 * <p>Journal-thread-only.
 */
final class LogWriter {

    private final JournalIO io;
    private final Checkpointer checkpointer;
    private final JournalCounters counters;
    private final JournalHook hook;
    private final Clock clock;
    private final int maxTxnBlocks;
    /** Next free log block (1 .. length). */
    private long head = 1;
    /** Tid of the next transaction to be written to the log. */
    private long nextTid;
    /** Kept for the journal's life (direct buffers are dear); grows for a larger transaction. */
    private ByteBuffer writeBuf;

    LogWriter(JournalIO io, Checkpointer checkpointer, JournalCounters counters, JournalHook hook, Clock clock,
              int maxTxnBlocks, long sequence) {
        this.io = io;
        this.checkpointer = checkpointer;
        this.counters = counters;
        this.hook = hook;
        this.clock = clock;
        this.maxTxnBlocks = maxTxnBlocks;
        this.nextTid = sequence;
    }

    /**
     * Writes one snapshotted transaction to the log in one pwrite between two flushes. The first
     * (jbd2's REQ_PREFLUSH on the commit block) makes every data write that completed before the
     * transaction's handles durable before its commit record can be: a conversion to written
     * must never reach the media ahead of its data (ordered mode). The second makes the
     * transaction itself durable; the commit CRC covers every image, so a torn log write is
     * detected without a flush between images and commit block.
     */
    void write(Txn txn) throws IOException {
        long began = System.nanoTime();
        int images = txn.homes.length;
        int descriptors = JournalFormat.descriptorsFor(images);
        int need = JournalFormat.logBlocksFor(images);
        hook.at(JournalHook.Point.BEFORE_LOG_WRITE, txn.tid);
        if (head + need > io.length) {
            checkpoint();
        }
        flush();
        ByteBuffer buf = writeBuffer(need);
        int[] crcs = new int[images];
        for (int i = 0; i < images; i++) {
            crcs[i] = JournalFormat.imageCrc(txn.images[i]);
        }
        for (int k = 0; k < descriptors; k++) {
            int from = k * JournalFormat.TAGS_PER_DESCRIPTOR;
            int count = Math.min(JournalFormat.TAGS_PER_DESCRIPTOR, images - from);
            JournalFormat.encodeDescriptor(JournalFormat.blockAt(buf, k * BLOCK_SIZE), txn.tid, k,
                    k == descriptors - 1, txn.homes, crcs, from, count);
        }
        for (int i = 0; i < images; i++) {
            buf.put((descriptors + i) * BLOCK_SIZE, txn.images[i], 0, BLOCK_SIZE);
        }
        JournalFormat.encodeCommit(JournalFormat.blockAt(buf, (descriptors + images) * BLOCK_SIZE), txn.tid, images,
                descriptors, clock.millis(), JournalFormat.dataCrc(crcs, images));
        io.writeJournal(head, buf.duplicate().position(0).limit(need * BLOCK_SIZE));
        counters.logWritten(need);
        hook.at(JournalHook.Point.BEFORE_LOG_FLUSH, txn.tid);
        flush();
        head += need;
        nextTid = txn.tid + 1;
        checkpointer.logged(txn.homes, txn.images);
        counters.committed(txn.tid, images, System.nanoTime() - began);
        hook.at(JournalHook.Point.AFTER_COMMIT, txn.tid);
    }

    /** A commit with no block to log: only the flush that makes earlier writes durable. */
    void flushEmptyCommit() throws IOException {
        flush();
        counters.emptyCommit();
    }

    /** Checkpoints everything the log holds; the log then starts again at block 1. */
    void checkpoint() throws IOException {
        checkpointer.checkpoint(nextTid);
        head = 1;
    }

    private void flush() throws IOException {
        io.flush();
        counters.flushed();
    }

    private ByteBuffer writeBuffer(int blocks) {
        if (writeBuf == null || writeBuf.capacity() < blocks * BLOCK_SIZE) {
            writeBuf = JournalIO.allocate(Math.max(blocks, JournalFormat.logBlocksFor(Math.min(maxTxnBlocks, 64))));
        }
        return writeBuf;
    }
}
