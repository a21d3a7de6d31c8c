package dionode.node.journal;

import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of a {@link Journal}. Immutable; start from {@link #defaults()} and use the withers.
 *
 * @param commitInterval   the running transaction commits at the latest this long (by the
 *                         journal's clock) after its first change; default 1 s
 * @param maxTxnBlocks     most distinct blocks in one transaction; 0 = automatic: a quarter
 *                         of the log, at most 1024. Clamped so a transaction always fits the log.
 * @param commitThreshold  the running transaction commits as soon as it holds this many
 *                         blocks; 0 = automatic: three quarters of {@code maxTxnBlocks}
 * @param maxSpaceWaiters  bound on pending {@link Journal#onSpace} registrations
 * @param idlePoll         longest wait of the idle journal thread before it looks at the
 *                         clock again (so a manual test clock is noticed without a wake-up)
 * @param hook             injection points for tests; {@link JournalHook#NONE} by default
 */
public record JournalOptions(Duration commitInterval, int maxTxnBlocks, int commitThreshold, int maxSpaceWaiters,
                             Duration idlePoll, JournalHook hook) {

    public JournalOptions {
        Objects.requireNonNull(commitInterval, "commitInterval");
        Objects.requireNonNull(idlePoll, "idlePoll");
        Objects.requireNonNull(hook, "hook");
        if (commitInterval.isNegative() || commitInterval.isZero()) {
            throw new IllegalArgumentException("commitInterval must be positive: " + commitInterval);
        }
        if (idlePoll.isNegative() || idlePoll.isZero()) {
            throw new IllegalArgumentException("idlePoll must be positive: " + idlePoll);
        }
        if (maxTxnBlocks < 0 || commitThreshold < 0 || maxSpaceWaiters < 1) {
            throw new IllegalArgumentException("negative sizes in " + this);
        }
    }

    public static JournalOptions defaults() {
        return new JournalOptions(Duration.ofSeconds(1), 0, 0, 65536, Duration.ofMillis(100), JournalHook.NONE);
    }

    public JournalOptions withCommitInterval(Duration interval) {
        return new JournalOptions(interval, maxTxnBlocks, commitThreshold, maxSpaceWaiters, idlePoll, hook);
    }

    public JournalOptions withMaxTxnBlocks(int blocks) {
        return new JournalOptions(commitInterval, blocks, commitThreshold, maxSpaceWaiters, idlePoll, hook);
    }

    public JournalOptions withCommitThreshold(int blocks) {
        return new JournalOptions(commitInterval, maxTxnBlocks, blocks, maxSpaceWaiters, idlePoll, hook);
    }

    public JournalOptions withMaxSpaceWaiters(int waiters) {
        return new JournalOptions(commitInterval, maxTxnBlocks, commitThreshold, waiters, idlePoll, hook);
    }

    public JournalOptions withIdlePoll(Duration poll) {
        return new JournalOptions(commitInterval, maxTxnBlocks, commitThreshold, maxSpaceWaiters, poll, hook);
    }

    public JournalOptions withHook(JournalHook testHook) {
        return new JournalOptions(commitInterval, maxTxnBlocks, commitThreshold, maxSpaceWaiters, idlePoll, testHook);
    }
}
