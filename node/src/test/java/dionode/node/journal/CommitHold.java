package dionode.node.journal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A journal hook that, once armed, holds the journal thread inside the next commit (before its
 * log write) until released: while it is held the running transaction cannot switch and
 * {@link Journal#onSpace} registrations stay pending. Released for good by {@link #release}.
 * Thread-safe.
 */
public final class CommitHold implements JournalHook {
    private final AtomicBoolean armed = new AtomicBoolean();
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    /** The next commit holds the journal thread. */
    public void arm() {
        armed.set(true);
    }

    /** Waits until the journal thread is held; false if it was not within 10 s. */
    public boolean awaitHeld() throws InterruptedException {
        return held.await(10, TimeUnit.SECONDS);
    }

    /** Lets the journal thread go, and every later commit too. */
    public void release() {
        armed.set(false);
        released.countDown();
    }

    @Override
    public void at(Point point, long tid) {
        if (point == Point.BEFORE_LOG_WRITE && armed.get()) {
            held.countDown();
            try {
                released.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
