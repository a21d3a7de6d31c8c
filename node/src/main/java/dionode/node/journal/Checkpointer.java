package dionode.node.journal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;

/**
 * Checkpointing (jbd2's checkpoint.c): keeps the latest committed image of every block the log
 * holds that is not home yet, with the afterCheckpoint callbacks waiting for them, and moves the
 * log's tail. A checkpoint writes those images home, flushes, then empties the log by writing
 * the next tid to be logged into the journal superblock (the tail: the tid expected at log
 * block 1), flushes again and runs the callbacks. The log's head is the {@link LogWriter}'s.
 *
 * <p>Journal-thread-only.
 */
final class Checkpointer {

    private final JournalIO io;
    private final JournalCounters counters;
    private final JournalHook hook;
    /** Latest committed image of every block the log holds, by home block. */
    private final TreeMap<Long, byte[]> notYetHome = new TreeMap<>();
    private final List<Runnable> waiting = new ArrayList<>();

    Checkpointer(JournalIO io, JournalCounters counters, JournalHook hook) {
        this.io = io;
        this.counters = counters;
        this.hook = hook;
    }

    /** A durable transaction's images: the log holds them until the next checkpoint writes them home. */
    void logged(long[] homes, byte[][] images) {
        for (int i = 0; i < homes.length; i++) {
            notYetHome.put(homes[i], images[i]);
        }
    }

    /** Callbacks of a committed transaction, to run once its blocks are home. */
    void runAfterNext(Collection<Runnable> callbacks) {
        waiting.addAll(callbacks);
    }

    /**
     * Full checkpoint (jbd2_log_do_checkpoint, then jbd2_cleanup_journal_tail): every image
     * home, flush, superblock sequence = {@code nextTid} (the log is empty), flush, then the
     * callbacks.
     */
    void checkpoint(long nextTid) throws IOException {
        hook.at(JournalHook.Point.BEFORE_CHECKPOINT, nextTid);
        // Every logged transaction holds a block: the log is empty exactly when nothing waits to go home.
        if (!notYetHome.isEmpty()) {
            int written = io.writeHome(notYetHome);
            io.flush();
            counters.flushed();
            io.writeSuper(nextTid);
            io.flush();
            counters.flushed();
            notYetHome.clear();
            counters.checkpointed(written);
        }
        List<Runnable> callbacks = new ArrayList<>(waiting);
        waiting.clear();
        JournalCallbacks.runAll(callbacks, "afterCheckpoint");
    }
}
