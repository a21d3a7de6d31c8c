package dionode.node.journal;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One cycle of the journal thread (kjournald2 calling jbd2_journal_commit_transaction): the
 * snapshotted transaction and the requests taken with it once it was switched, and what the
 * thread then does with them.
 *
 * <p>Immutable record (the futures complete); used by the journal thread only.
 *
 * @param txn              the snapshotted transaction to commit, or null if nothing was running
 * @param commitFuture     the future of the {@code commit()} calls it serves, or null
 * @param callers          how many {@code commit()} calls {@code commitFuture} stands for
 * @param checkpointAfter  whether a checkpoint follows the commit
 * @param checkpointFuture the future of the {@code checkpoint()} calls it serves, or null
 * @param space            onSpace callbacks, run first
 * @param exit             whether the thread stops after this cycle
 */
record CommitCycle(Txn txn, CompletableFuture<Long> commitFuture, int callers, boolean checkpointAfter,
                   CompletableFuture<Void> checkpointFuture, List<Runnable> space, boolean exit) {

    /**
     * Logs the transaction (a commit with no block only flushes), queues its afterCheckpoint
     * callbacks, runs its afterCommit callbacks, then completes the commit() callers with the
     * last durable tid.
     */
    void commit(LogWriter logWriter, Checkpointer checkpointer, JournalCounters counters) throws IOException {
        long tid = counters.durableTid();
        if (txn != null && txn.hasBlocks()) {
            logWriter.write(txn);
            tid = txn.tid;
        } else if (commitFuture != null || txn != null) {
            logWriter.flushEmptyCommit();
        }
        if (txn != null) {
            checkpointer.runAfterNext(txn.afterCheckpoint);
            // Before the futures: whoever waited for the commit sees its effects (freed blocks).
            JournalCallbacks.runAll(txn.afterCommit, "afterCommit");
        }
        if (commitFuture != null) {
            counters.batchServed(callers);
            commitFuture.complete(tid);
        }
    }

    /** The checkpoint that follows the commit, then its callers. */
    void checkpoint(LogWriter logWriter) throws IOException {
        logWriter.checkpoint();
        if (checkpointFuture != null) {
            checkpointFuture.complete(null);
        }
    }

    /** Fails this cycle's callers: the journal aborted during it. */
    void fail(JournalAbortedException failure) {
        if (commitFuture != null) {
            commitFuture.completeExceptionally(failure);
        }
        if (checkpointFuture != null) {
            checkpointFuture.completeExceptionally(failure);
        }
    }
}
