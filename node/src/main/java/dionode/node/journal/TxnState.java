package dionode.node.journal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What jbd2 keeps in a transaction's t_state (T_RUNNING or T_LOCKED), t_updates (handles open
 * in it) and t_outstanding_credits (its blocks plus the credits its open handles reserved),
 * packed into one atomic word so that a start checks the state, the room and joins in one
 * compare-and-set (jbd2 needs j_state_lock's read side for this).
 *
 * <pre>
 * bit 63        locked for commit: no handle may join
 * bits 32..62   open handles (t_updates)
 * bits 0..31    outstanding credits (never above maxTxnBlocks, a positive int)
 * </pre>
 *
 * <p>Thread-safe, lock-free.
 */
final class TxnState {

    /** What a start found. */
    enum Start {
        /** Joined: one more open handle, its credits reserved. */
        STARTED,
        /** Locked for commit (T_LOCKED): wait for the next transaction. */
        LOCKED,
        /** Not room for the credits asked: the transaction must commit first. */
        FULL
    }

    private static final long LOCKED = 1L << 63;
    private static final long ONE_UPDATE = 1L << 32;
    private static final long CREDITS = 0xFFFF_FFFFL;

    private final AtomicLong word;

    TxnState(boolean locked) {
        word = new AtomicLong(locked ? LOCKED : 0);
    }

    /** start_this_handle and add_transaction_credits: join with {@code credits} unless locked or full. */
    Start tryEnter(int credits, int maxCredits) {
        for (;;) {
            long w = word.get();
            if ((w & LOCKED) != 0) {
                return Start.LOCKED;
            }
            if ((w & CREDITS) + credits > maxCredits) {
                return Start.FULL;
            }
            if (word.compareAndSet(w, w + ONE_UPDATE + credits)) {
                return Start.STARTED;
            }
        }
    }

    /**
     * stop_this_handle: one handle left, giving back {@code unusedCredits}. Returns whether it was the
     * last one out of a locked transaction (the commit waiting in jbd2_journal_wait_updates goes on).
     */
    boolean exit(int unusedCredits) {
        long w = word.addAndGet(-ONE_UPDATE - unusedCredits);
        return (w & LOCKED) != 0 && updates(w) == 0;
    }

    /** T_LOCKED: no handle joins from now on; those open stay until they close. */
    void lock() {
        word.getAndUpdate(w -> w | LOCKED);
    }

    /** Back to running: a locked transaction that turned out to hold nothing to commit. */
    void unlock() {
        word.getAndUpdate(w -> w & ~LOCKED);
    }

    boolean locked() {
        return (word.get() & LOCKED) != 0;
    }

    /** Handles open now (t_updates). */
    int updates() {
        return updates(word.get());
    }

    /** Blocks registered plus credits reserved by open handles. */
    int outstanding() {
        return (int) (word.get() & CREDITS);
    }

    private static int updates(long w) {
        return (int) ((w & ~LOCKED) >>> 32);
    }
}
