package dionode.node.journal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.BlockDevice;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Handles are admitted the way jbd2's start_this_handle admits them: no lock held from start to
 * stop, so a handle on one thread never waits for another thread's handle; a commit locks the
 * running transaction and waits for its open handles (t_updates) before it snapshots.
 */
class JournalAdmissionTest extends JournalTestSupport {

    /** Another thread, as another inode actor's; daemon, so a start that blocks cannot keep the JVM alive. */
    private final ExecutorService other = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "other-actor");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void stopOther() {
        other.shutdownNow();
    }

    @Test
    void aHandleStartsAtOnceWhileAnotherThreadHoldsOne() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        Handle mine = j.tryStart(1);
        long tid;
        try {
            fill(mine.getWriteAccess(100, image(100), SEALER), 100, 1);
            tid = mine.tid();
            Long theirs = other.submit(() -> {
                Handle h = j.tryStart(1);
                try {
                    fill(h.getWriteAccess(101, image(101), SEALER), 101, 1);
                    return h.tid();
                } finally {
                    h.close();
                }
            }).get(1, SECONDS);
            assertEquals(tid, theirs, "both handles run in the one running transaction");
        } finally {
            mine.close();
        }
        assertEquals(tid, j.commit().get(10, SECONDS));
        assertEquals(2, j.stats().handles());
        crashAndAssertOneTransactionOf(j, dev, p, 100, 101);
    }

    @Test
    void commitWaitsForAnOpenHandleAndStartsMeanwhileWaitForTheSwitch() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        Handle open = j.tryStart(2);
        long tid = open.tid();
        CompletableFuture<Long> committed;
        CountDownLatch space = new CountDownLatch(1);
        AtomicLong startedInCallback = new AtomicLong(-1);
        try {
            fill(open.getWriteAccess(100, image(100), SEALER), 100, 1);
            committed = j.commit();
            // Once the journal thread locked the running transaction for commit, starts are refused.
            await(() -> startOnOther(j) == null, "the running transaction to be locked for commit");
            JournalStats locked = j.stats();
            assertTrue(locked.handleWaits() >= 1, locked.toString());
            assertEquals(locked.handlesRefused(), locked.handleWaits(), "the transaction had room: " + locked);
            j.onSpace(() -> {
                Handle h = j.tryStart(1);
                startedInCallback.set(h == null ? -2 : h.tid());
                if (h != null) {
                    h.close();
                }
                space.countDown();
            });
            assertFalse(space.await(200, MILLISECONDS),
                    "onSpace ran while the transaction waited for an open handle");
            assertFalse(committed.isDone(), "commit completed while a handle of its transaction was open");
            fill(open.getWriteAccess(101, image(101), SEALER), 101, 1);
        } finally {
            open.close();
        }
        assertTrue(space.await(10, SECONDS), "onSpace never ran after the switch");
        assertEquals(tid + 1, startedInCallback.get(), "onSpace runs once the next transaction takes handles");
        assertEquals(tid, committed.get(10, SECONDS));
        Long next = startOnOther(j);
        assertNotNull(next);
        assertEquals(tid + 1, next);
        crashAndAssertOneTransactionOf(j, dev, p, 100, 101);
    }

    @Test
    void roomHeldByAnOpenHandleComesBackWhenItCloses() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet().withMaxTxnBlocks(4));
        long flushes = j.stats().flushes();
        Handle open = j.tryStart(3);
        CountDownLatch space = new CountDownLatch(1);
        try {
            Long refused = other.submit(() -> {
                Handle h = j.tryStart(2);
                if (h != null) {
                    h.close();
                }
                return h == null ? null : h.tid();
            }).get(1, SECONDS);
            assertNull(refused, "3 credits held + 2 exceed the bound of 4");
            assertEquals(0, j.stats().handleWaits(), "refused for room, not for a commit");
            j.onSpace(space::countDown);
            assertFalse(space.await(200, MILLISECONDS),
                    "onSpace ran while the open handle still held the room");
        } finally {
            open.close();
        }
        assertTrue(space.await(10, SECONDS), "onSpace never ran after the handle gave its credits back");
        Handle after = j.tryStart(4);
        assertNotNull(after, "all the room is back");
        assertEquals(open.tid(), after.tid(), "a transaction that held nothing keeps its tid");
        after.close();
        JournalStats s = j.stats();
        assertEquals(0, s.commits(), s.toString());
        assertEquals(flushes, s.flushes(), "nothing to commit, nothing flushed: " + s);
    }

    /** Crashes the journal; recovery then finds one transaction, holding version 1 of every home. */
    private void crashAndAssertOneTransactionOf(Journal j, BlockDevice dev, Path p, long... homes) throws Exception {
        j.halt();
        dev.close();
        BlockDevice again = openDevice(p, JNA);
        assertEquals(1, Journal.recover(again, J_START, J_BLOCKS).transactions());
        for (long home : homes) {
            assertHome(again, home, 1);
        }
    }

    /** Starts and closes an empty handle on the other thread: its tid, or null if refused; fails if it waited 1 s. */
    private Long startOnOther(Journal j) {
        try {
            return other.submit(() -> {
                Handle h = j.tryStart(1);
                if (h == null) {
                    return null;
                }
                h.close();
                return h.tid();
            }).get(1, SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("tryStart on another thread waited 1 s for this thread's handle", e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
