package dionode.node.journal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A journal's counters in one place, counted where the event happens; {@link #snapshot} reads
 * them into the {@link JournalStats} record (field by field: a snapshot taken while the journal
 * works may mix two cycles).
 *
 * <p>Thread-safe: handles and {@code commit()} calls count on their callers' threads, the rest
 * on the journal thread.
 */
final class JournalCounters {

    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong emptyCommits = new AtomicLong();
    private final AtomicLong blocksLogged = new AtomicLong();
    private final AtomicLong logBlocksWritten = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong checkpoints = new AtomicLong();
    private final AtomicLong blocksCheckpointed = new AtomicLong();
    private final AtomicLong handles = new AtomicLong();
    private final AtomicLong handlesRefused = new AtomicLong();
    private final AtomicLong handleWaits = new AtomicLong();
    private final AtomicLong maxTxnBlocks = new AtomicLong();
    private final AtomicLong commitCalls = new AtomicLong();
    private final AtomicLong commitBatches = new AtomicLong();
    private final AtomicLong batchedCalls = new AtomicLong();
    private final AtomicLong maxBatch = new AtomicLong();
    private volatile long durableTid = -1;
    /** Told each logged transaction's commit time (pre-flush, log write, flush) in nanoseconds: the metrics' histogram. */
    private volatile LongConsumer commitNanos = nanos -> {
    };

    void observeCommits(LongConsumer observer) {
        commitNanos = observer;
    }

    void handleStarted() {
        handles.incrementAndGet();
    }

    /** A start returned null; {@code locked}: because the transaction was locked for commit, not full. */
    void handleRefused(boolean locked) {
        handlesRefused.incrementAndGet();
        if (locked) {
            handleWaits.incrementAndGet();
        }
    }

    void commitCalled() {
        commitCalls.incrementAndGet();
    }

    void flushed() {
        flushes.incrementAndGet();
    }

    /** A commit cycle that logged no block. */
    void emptyCommit() {
        emptyCommits.incrementAndGet();
    }

    /** One transaction's log blocks (descriptors + images + commit) were written, not yet flushed. */
    void logWritten(int logBlocks) {
        logBlocksWritten.addAndGet(logBlocks);
    }

    /** Transaction {@code tid} of {@code images} blocks is durable, {@code nanos} after its commit began. */
    void committed(long tid, int images, long nanos) {
        commitNanos.accept(nanos);
        commits.incrementAndGet();
        blocksLogged.addAndGet(images);
        maxTxnBlocks.accumulateAndGet(images, Math::max);
        durableTid = tid;
    }

    /** One commit cycle served {@code callers} {@code commit()} calls. */
    void batchServed(int callers) {
        commitBatches.incrementAndGet();
        batchedCalls.addAndGet(callers);
        maxBatch.accumulateAndGet(callers, Math::max);
    }

    /** A checkpoint wrote {@code blocks} images home. */
    void checkpointed(int blocks) {
        checkpoints.incrementAndGet();
        blocksCheckpointed.addAndGet(blocks);
    }

    /** Last tid known durable, -1 before the first. */
    long durableTid() {
        return durableTid;
    }

    JournalStats snapshot(boolean aborted) {
        long commitCount = commits.get();
        long batches = commitBatches.get();
        return new JournalStats(commitCount, emptyCommits.get(), blocksLogged.get(), logBlocksWritten.get(),
                flushes.get(), checkpoints.get(), blocksCheckpointed.get(), handles.get(), handlesRefused.get(),
                commitCount == 0 ? 0 : (double) blocksLogged.get() / commitCount, maxTxnBlocks.get(),
                commitCalls.get(), batches, batches == 0 ? 0 : (double) batchedCalls.get() / batches, maxBatch.get(),
                durableTid, aborted, handleWaits.get());
    }
}
