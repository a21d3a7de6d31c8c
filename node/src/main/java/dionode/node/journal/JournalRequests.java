package dionode.node.journal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What callers wait on the journal thread for: {@code commit()} callers, served together by the
 * next commit cycle (group commit: one future for every call that arrives while a cycle
 * writes), {@code checkpoint()} callers, and {@code onSpace} callbacks, whose number is bounded.
 * The journal thread takes them all at once into a {@link CommitCycle}.
 *
 * <p>Guarded by the journal's request lock: every method is called with it held.
 */
final class JournalRequests {

    private final int maxSpaceWaiters;
    private CompletableFuture<Long> commit;
    private int commitCallers;
    private CompletableFuture<Void> checkpoint;
    private final ArrayDeque<Runnable> spaceWaiters = new ArrayDeque<>();

    JournalRequests(int maxSpaceWaiters) {
        this.maxSpaceWaiters = maxSpaceWaiters;
    }

    /** Joins the next commit cycle; returns the caller's own copy of its future. */
    CompletableFuture<Long> joinCommit() {
        if (commit == null) {
            commit = new CompletableFuture<>();
        }
        commitCallers++;
        return commit.copy();
    }

    /** Joins the next checkpoint; returns the caller's own copy of its future. */
    CompletableFuture<Void> joinCheckpoint() {
        if (checkpoint == null) {
            checkpoint = new CompletableFuture<>();
        }
        return checkpoint.copy();
    }

    /** @throws IllegalStateException if the bound of waiting callbacks is reached */
    void addSpaceWaiter(Runnable callback) {
        if (spaceWaiters.size() >= maxSpaceWaiters) {
            throw new IllegalStateException("too many onSpace registrations: " + spaceWaiters.size());
        }
        spaceWaiters.add(callback);
    }

    boolean commitAsked() {
        return commit != null;
    }

    boolean checkpointAsked() {
        return checkpoint != null;
    }

    boolean spaceAsked() {
        return !spaceWaiters.isEmpty();
    }

    /**
     * Takes every request into one cycle that commits {@code txn} (may be null: nothing to log)
     * and, if {@code checkpointAfter}, checkpoints.
     */
    CommitCycle take(Txn txn, boolean checkpointAfter, boolean exit) {
        CommitCycle cycle = new CommitCycle(txn, commit, commitCallers, checkpointAfter, checkpoint,
                drainSpaceWaiters(), exit);
        commit = null;
        commitCallers = 0;
        checkpoint = null;
        return cycle;
    }

    /** A cycle that only runs the waiting onSpace callbacks. */
    CommitCycle takeSpaceWaiters() {
        return new CommitCycle(null, null, 0, false, null, drainSpaceWaiters(), false);
    }

    /** Fails every waiting commit() and checkpoint() caller; onSpace callbacks still run (and see the abort). */
    void failAll(Throwable cause) {
        if (commit != null) {
            commit.completeExceptionally(JournalAbortedException.after(cause));
            commit = null;
            commitCallers = 0;
        }
        if (checkpoint != null) {
            checkpoint.completeExceptionally(JournalAbortedException.after(cause));
            checkpoint = null;
        }
    }

    private List<Runnable> drainSpaceWaiters() {
        if (spaceWaiters.isEmpty()) {
            return List.of();
        }
        List<Runnable> drained = new ArrayList<>(spaceWaiters);
        spaceWaiters.clear();
        return drained;
    }
}
