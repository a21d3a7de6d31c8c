package dionode.node.journal;

/**
 * A snapshot of a journal's counters. Immutable.
 *
 * @param commits            transactions written to the log (with at least one block)
 * @param emptyCommits       commit cycles with no block to log (flush only, or callbacks only)
 * @param blocksLogged       images written to the log
 * @param logBlocksWritten   all log blocks written (descriptors + images + commits)
 * @param flushes            device flushes (fdatasync) issued by the journal thread
 * @param checkpoints        checkpoints that wrote anything
 * @param blocksCheckpointed images written home by checkpoints
 * @param handles            handles started
 * @param handlesRefused     {@code tryStart} calls that returned null (no room, or locked for commit)
 * @param meanTxnBlocks      mean blocks per logged transaction
 * @param maxTxnBlocks       largest logged transaction, in blocks
 * @param commitCalls        {@link Journal#commit()} calls
 * @param commitBatches      commit cycles that served at least one {@code commit()} call
 * @param meanBatch          mean {@code commit()} calls served per such cycle (group commit)
 * @param maxBatch           most {@code commit()} calls served by one cycle
 * @param durableTid         last tid known durable (-1 before the first)
 * @param aborted            whether the journal failed sticky
 * @param handleWaits        of {@code handlesRefused}, those refused because the running transaction was
 *                           locked for commit, waiting for its open handles (jbd2's wait_transaction_locked)
 */
public record JournalStats(long commits, long emptyCommits, long blocksLogged, long logBlocksWritten, long flushes,
                           long checkpoints, long blocksCheckpointed, long handles, long handlesRefused,
                           double meanTxnBlocks, long maxTxnBlocks, long commitCalls, long commitBatches,
                           double meanBatch, long maxBatch, long durableTid, boolean aborted,
                           long handleWaits) {
}
