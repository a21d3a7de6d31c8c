package dionode.node.journal;

/**
 * Named injection points on the journal thread, for ordering tests (Ratis's
 * CodeInjectionForTesting). The default does nothing. A hook runs on the journal thread
 * holding no lock and may block (a test pauses the thread there).
 */
@FunctionalInterface
public interface JournalHook {

    enum Point {
        /** Running transaction was snapshotted and switched; its log write comes next. {@code tid} = its tid. */
        BEFORE_LOG_WRITE,
        /** Log write done, before the fdatasync that makes it durable. */
        BEFORE_LOG_FLUSH,
        /** Transaction durable, before its futures and afterCommit callbacks run. */
        AFTER_COMMIT,
        /** Before a checkpoint writes images home. {@code tid} = next tid to be logged. */
        BEFORE_CHECKPOINT
    }

    JournalHook NONE = (point, tid) -> { };

    void at(Point point, long tid);
}
