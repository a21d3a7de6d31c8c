package dionode.node.journal;

import java.util.Collection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the callers' callbacks on the journal thread ({@link Journal#onSpace},
 * {@link Handle#afterCommit}, {@link Handle#afterCheckpoint}): one that throws is logged and
 * the rest still run, so a caller's bug never stops the journal. Stateless (thread-safe).
 */
final class JournalCallbacks {

    /** Under the journal's logger name, which operators filter on. */
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

    private JournalCallbacks() {
    }

    static void runAll(Collection<Runnable> callbacks, String what) {
        for (Runnable callback : callbacks) {
            try {
                callback.run();
            } catch (Throwable failure) {
                LOG.error("journal {} callback failed", what, failure);
            }
        }
    }
}
