package dionode.node.journal;

import java.time.Clock;

/**
 * The running transaction (jbd2's j_running_transaction) and the credits its open handles
 * reserved: what a new handle may still add, when the transaction should commit unasked, and
 * the switch to the next one at commit.
 *
 * <p>Guarded by the journal's metadata lock: every method is called with it held.
 */
final class RunningTxn {

    private final TxnLimits limits;
    private final Clock clock;
    private Txn txn;
    private int reservedCredits;

    RunningTxn(long tid, TxnLimits limits, Clock clock) {
        this.txn = new Txn(tid);
        this.limits = limits;
        this.clock = clock;
    }

    /**
     * Reserves {@code credits} blocks in the running transaction and returns it, or null if
     * they would take it past its bound (jbd2's add_transaction_credits).
     */
    Txn reserve(int credits) {
        if ((long) txn.size() + reservedCredits + credits > limits.maxTxnBlocks()) {
            return null;
        }
        reservedCredits += credits;
        return txn;
    }

    /** A handle's block new to {@code handleTxn}: it takes one of the handle's credits. */
    void addBlock(Txn handleTxn, long home, Txn.Entry entry) {
        handleTxn.blocks.put(home, entry);
        reservedCredits--;
        touch(handleTxn);
    }

    /** A handle added a block or a callback: the commit interval runs from the first change. */
    void touch(Txn handleTxn) {
        if (handleTxn.firstChangeMillis < 0) {
            handleTxn.firstChangeMillis = clock.millis();
        }
    }

    /** A handle of {@code handleTxn} ended; returns whether the transaction reached the commit threshold. */
    boolean release(Txn handleTxn, int unusedCredits) {
        reservedCredits -= unusedCredits;
        return handleTxn.size() >= limits.commitThreshold();
    }

    boolean hasBlocks() {
        return !txn.blocks.isEmpty();
    }

    /**
     * Whether the running transaction commits now unasked: it holds blocks and reached the
     * threshold or handles wait for room ({@code spaceAsked}), or its commit interval ran out.
     */
    boolean commitDue(boolean spaceAsked) {
        return (hasBlocks() && (txn.size() >= limits.commitThreshold() || spaceAsked))
                || (!txn.isEmpty() && intervalDue());
    }

    /**
     * Seals and copies the running transaction ({@link Txn#snapshot}) and starts the next one,
     * which reuses the tid if this one logs no block; null if nothing is running.
     *
     * @throws RuntimeException from a {@link Sealer}; the running transaction stays
     */
    Txn switchForCommit() {
        if (txn.isEmpty()) {
            return null;
        }
        txn.snapshot();
        Txn committing = txn;
        txn = new Txn(committing.blocks.isEmpty() ? committing.tid : committing.tid + 1);
        return committing;
    }

    /** How long the idle journal thread may sleep: at most {@code idlePollMillis}, and not past the interval. */
    long waitMillis(long idlePollMillis) {
        long waitMillis = idlePollMillis;
        if (!txn.isEmpty()) {
            long due = txn.firstChangeMillis + limits.commitIntervalMillis() - clock.millis();
            waitMillis = Math.min(waitMillis, Math.max(1, due));
        }
        return Math.max(1, waitMillis);
    }

    private boolean intervalDue() {
        return txn.firstChangeMillis >= 0 && clock.millis() - txn.firstChangeMillis >= limits.commitIntervalMillis();
    }
}
