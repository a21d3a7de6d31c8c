package dionode.node.journal;

import java.time.Clock;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The running transaction (jbd2's j_running_transaction) and its admission: handles join it
 * without a lock ({@link TxnState}); when it should commit unasked; and the commit's first part,
 * which locks it, waits for its open handles and switches to the next one.
 *
 * <p>Thread-safe: {@link #start}, {@link #release} and {@link #touch} run on the handles' threads at
 * once and never wait; {@link #lockForCommit}, {@link #awaitUpdates} and {@link #switchLocked} run on
 * the journal thread only (the one thread that switches, so {@code txn} is written by it alone).
 */
final class RunningTxn {

    /** What {@link #start} found: the transaction joined, or null and whether it was locked for commit. */
    record Admission(Txn txn, boolean locked) {
    }

    private final TxnLimits limits;
    private final Clock clock;
    private volatile Txn txn;

    RunningTxn(long tid, TxnLimits limits, Clock clock) {
        this.txn = new Txn(tid, false);
        this.limits = limits;
        this.clock = clock;
    }

    /**
     * Joins the running transaction with {@code credits} reserved (start_this_handle). Refused when
     * they would take it past its bound, or while it is locked for commit; a transaction locked by
     * a commit that already switched is not a refusal: the start joins the next one.
     */
    Admission start(int credits) {
        for (;;) {
            Txn running = txn;
            TxnState.Start found = running.state.tryEnter(credits, limits.maxTxnBlocks());
            if (found == TxnState.Start.STARTED) {
                return new Admission(running, false);
            }
            if (found == TxnState.Start.FULL) {
                return new Admission(null, false);
            }
            if (txn == running) {
                return new Admission(null, true);
            }
        }
    }

    /** A handle added a block or a callback: the commit interval runs from the first change. */
    void touch(Txn handleTxn) {
        if (handleTxn.firstChangeMillis() < 0) {
            handleTxn.touch(clock.millis());
        }
    }

    /**
     * A handle of {@code handleTxn} ended (jbd2_journal_stop). Returns whether the journal thread
     * should look now: this was the last handle out of a locked transaction, or the running one
     * reached the commit threshold.
     */
    boolean release(Txn handleTxn, int unusedCredits) {
        boolean lastOut = handleTxn.state.exit(unusedCredits);
        return lastOut || (handleTxn == txn && handleTxn.size() >= limits.commitThreshold());
    }

    /**
     * Whether the running transaction commits now unasked: it reached the threshold; or handles
     * wait for room ({@code spaceAsked}) and it holds blocks or reservations, which only a commit
     * gives back (add_transaction_credits starting a commit); or its commit interval ran out.
     */
    boolean commitDue(boolean spaceAsked) {
        Txn running = txn;
        return running.size() >= limits.commitThreshold()
                || (spaceAsked && running.state.outstanding() > 0)
                || (!running.isEmpty() && intervalDue(running));
    }

    /**
     * The commit's first step: the running transaction, locked (T_LOCKED) so that no handle joins
     * it. Null, and nothing locked, when it holds nothing and no handle is open in it (nothing to
     * switch), unless {@code closing}: then it stays locked for good.
     */
    Txn lockForCommit(boolean closing) {
        Txn running = txn;
        if (!closing && running.isEmpty() && running.state.outstanding() == 0) {
            return null;
        }
        running.state.lock();
        return running;
    }

    /**
     * jbd2_journal_wait_updates: parks the journal thread until no handle is open in {@code locked}
     * (the last one out unparks it). Returns false, leaving it locked, if {@code giveUp} turned
     * true (the journal halted or its thread was interrupted) first.
     */
    boolean awaitUpdates(Txn locked, BooleanSupplier giveUp) {
        while (locked.state.updates() > 0) {
            if (giveUp.getAsBoolean()) {
                return false;
            }
            LockSupport.park(this);
        }
        return true;
    }

    /**
     * Seals and copies the locked transaction ({@link Txn#snapshot}) and starts the next one, which
     * reuses the tid if this one logs no block, and is born locked if {@code closing} (the journal
     * takes no more handles); null if it holds nothing: then it is unlocked again unless closing.
     *
     * @throws RuntimeException from a {@link Sealer}; the transaction stays running, and locked
     */
    Txn switchLocked(Txn locked, boolean closing) {
        if (locked.isEmpty()) {
            if (!closing) {
                locked.state.unlock();
            }
            return null;
        }
        locked.snapshot();
        txn = new Txn(locked.hasBlocks() ? locked.tid + 1 : locked.tid, closing);
        return locked;
    }

    /** How long the idle journal thread may sleep: at most {@code idlePollMillis}, and not past the interval. */
    long waitMillis(long idlePollMillis) {
        Txn running = txn;
        long waitMillis = idlePollMillis;
        if (!running.isEmpty()) {
            long due = running.firstChangeMillis() + limits.commitIntervalMillis() - clock.millis();
            waitMillis = Math.min(waitMillis, Math.max(1, due));
        }
        return Math.max(1, waitMillis);
    }

    private boolean intervalDue(Txn running) {
        long first = running.firstChangeMillis();
        return first >= 0 && clock.millis() - first >= limits.commitIntervalMillis();
    }
}
