package dionode.node.journal;

import dionode.node.meta.BlockWriteAccess;
import java.util.Objects;

/**
 * One atomic metadata change: open in the running transaction from {@link Journal#tryStart} to
 * {@link #close()} (jbd2's handle_t); every block it modifies is registered with
 * {@link #getWriteAccess} and lands in the same transaction. Handles on other threads run at the
 * same time, in the same transaction; they may register the same block (one inode-table block
 * holds 16 inodes, one bitmap block 32736 blocks) and must then write disjoint bytes of it, or
 * bits through atomic updates.
 *
 * <p>Confined to the thread that started it. Keep it short (in-memory only): never do I/O
 * and never wait for a commit while holding a handle (the commit waits for it to close).
 */
public final class Handle implements AutoCloseable, BlockWriteAccess {

    private final Journal journal;
    private final RunningTxn running;
    private final Txn txn;
    private final Thread owner;
    private final int credits;
    private int used;
    private boolean closed;

    Handle(Journal journal, RunningTxn running, Txn txn, int credits, Thread owner) {
        this.journal = journal;
        this.running = running;
        this.txn = txn;
        this.credits = credits;
        this.owner = owner;
    }

    /**
     * Adds {@code homeBlock} to the running transaction (once) and returns {@code liveImage},
     * which the caller may now modify until {@link #close()}. Every later commit snapshots the
     * live image as it is then; {@code sealer} (may be null) writes its checksum first.
     *
     * @throws IllegalStateException    if this handle would touch more distinct new blocks than
     *                                  its credits, or the block is registered with another array
     * @throws IllegalArgumentException if the image is not 4096 bytes or the block is inside the
     *                                  journal or outside the device
     */
    public byte[] getWriteAccess(long homeBlock, byte[] liveImage, Sealer sealer) {
        checkUsable();
        Objects.requireNonNull(liveImage, "liveImage");
        if (liveImage.length != JournalFormat.BLOCK_SIZE) {
            throw new IllegalArgumentException("metadata image must be " + JournalFormat.BLOCK_SIZE + " bytes, got "
                    + liveImage.length);
        }
        journal.checkHome(homeBlock);
        Txn.Entry entry = txn.entry(homeBlock);
        if (entry == null) {
            if (used >= credits) {
                throw new IllegalStateException("handle asked for " + credits + " credits and would modify block "
                        + homeBlock + " as distinct block number " + (used + 1));
            }
            Txn.Entry mine = new Txn.Entry(liveImage, sealer);
            entry = txn.register(homeBlock, mine);
            if (entry == mine) {
                // the credit becomes the block: the transaction's outstanding credits stay as they are
                used++;
                running.touch(txn);
                return liveImage;
            }
        }
        if (entry.live != liveImage) {
            throw new IllegalStateException("block " + homeBlock
                    + " is already in transaction " + txn.tid + " with another live image");
        }
        if (sealer != null) {
            entry.sealer = sealer;
        }
        return liveImage;
    }

    /**
     * Runs {@code callback} on the journal thread once the transaction holding this handle is
     * durable, before the {@link Journal#commit()} futures of that commit complete. Never runs
     * if the journal aborts first.
     */
    public void afterCommit(Runnable callback) {
        checkUsable();
        running.touch(txn);
        txn.afterCommit.add(Objects.requireNonNull(callback));
    }

    /**
     * Runs {@code callback} on the journal thread after the transaction holding this handle is
     * durable and its blocks are checkpointed home (the log no longer holds them).
     */
    public void afterCheckpoint(Runnable callback) {
        checkUsable();
        running.touch(txn);
        txn.afterCheckpoint.add(Objects.requireNonNull(callback));
    }

    /**
     * The tid of the transaction this handle belongs to. A transaction that logs no block
     * (callbacks only) does not consume its tid: the next one reuses it.
     */
    public long tid() {
        return txn.tid;
    }

    /** {@link #getWriteAccess(long, byte[], Sealer)} without a sealer, for node.meta's self-sealing records. */
    @Override
    public byte[] getWriteAccess(long homeBlock, byte[] liveImage) {
        return getWriteAccess(homeBlock, liveImage, null);
    }

    /** Credits asked for at start. */
    public int credits() {
        return credits;
    }

    /** Ends the handle (jbd2_journal_stop), giving back the credits it did not use. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("handle of " + owner.getName() + " closed from "
                    + Thread.currentThread().getName());
        }
        closed = true;
        journal.endHandle(txn, credits - used);
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("handle closed");
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("handle of " + owner.getName() + " used from "
                    + Thread.currentThread().getName());
        }
    }
}
