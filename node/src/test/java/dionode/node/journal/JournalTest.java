package dionode.node.journal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.BlockDevice;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class JournalTest extends JournalTestSupport {

    @Test
    void commitThenRecoverAppliesImagesHome() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        long tid = change(j, 1, 100, 101, 300);
        assertEquals(tid, j.commit().get(10, SECONDS));
        assertEquals(tid, j.stats().durableTid());
        j.halt(); // crash: committed in the log, nothing checkpointed
        assertZero(dev, 100);
        dev.close();

        BlockDevice dev2 = openDevice(p, JNA);
        ReplayResult r = Journal.recover(dev2, J_START, J_BLOCKS);
        assertEquals(1, r.transactions(), r.toString());
        assertEquals(3, r.blocksWritten());
        assertEquals(tid, r.firstTid());
        assertHome(dev2, 100, 1);
        assertHome(dev2, 101, 1);
        assertHome(dev2, 300, 1);

        ReplayResult again = Journal.recover(dev2, J_START, J_BLOCKS);
        assertEquals(0, again.transactions(), "the log is reset after replay");
        assertHome(dev2, 100, 1);
        // And the journal opens and continues with fresh tids.
        Journal j2 = track(Journal.open(dev2, J_START, J_BLOCKS, quiet(), clock));
        long tid2 = change(j2, 2, 100);
        assertTrue(tid2 > tid);
        j2.commit().get(10, SECONDS);
    }

    @Test
    void uncommittedChangesAreNotHomeAfterCrash() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        change(j, 1, 100);
        j.commit().get(10, SECONDS);
        change(j, 2, 100, 101); // never committed
        j.halt();
        dev.close();

        BlockDevice dev2 = openDevice(p, JNA);
        ReplayResult r = Journal.recover(dev2, J_START, J_BLOCKS);
        assertEquals(1, r.transactions());
        assertHome(dev2, 100, 1);
        assertZero(dev2, 101);
    }

    @Test
    void openRefusesAnUnrecoveredLog() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        change(j, 1, 100);
        j.commit().get(10, SECONDS);
        j.halt();
        IOException e = assertThrows(IOException.class,
                () -> Journal.open(dev, J_START, J_BLOCKS, quiet(), clock));
        assertTrue(e.getMessage().contains("recover"), e.getMessage());
    }

    @Test
    void commitSnapshotsOnHandleBoundaries() throws Exception {
        // The journal thread is paused after the snapshot of txn A; a later handle changes the
        // same block again. The log must hold A's image, sealed, not the later one.
        CountDownLatch atWrite = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        JournalOptions o = quiet().withHook((point, tid) -> {
            if (point == JournalHook.Point.BEFORE_LOG_WRITE && first.getAndSet(false)) {
                atWrite.countDown();
                awaitQuietly(release);
            }
        });
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, o);
        long tidA = change(j, 1, 100);
        CompletableFuture<Long> fa = j.commit();
        assertTrue(atWrite.await(10, SECONDS));
        long tidB = change(j, 2, 100); // live image now holds version 2 (unsealed until B commits)
        assertEquals(tidA + 1, tidB);
        release.countDown();
        assertEquals(tidA, fa.get(10, SECONDS));
        j.halt();
        dev.close();

        BlockDevice dev2 = openDevice(p, JNA);
        assertEquals(1, Journal.recover(dev2, J_START, J_BLOCKS).transactions());
        assertHome(dev2, 100, 1);
    }

    @Test
    void groupCommitBatchesConcurrentCallers() throws Exception {
        CountDownLatch atFlush = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        JournalOptions o = quiet().withHook((point, tid) -> {
            if (point == JournalHook.Point.BEFORE_LOG_FLUSH && first.getAndSet(false)) {
                atFlush.countDown();
                awaitQuietly(release);
            }
        });
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, o);
        long flushesBefore = j.stats().flushes();

        // One commit holds the journal thread in its flush while 12 more callers arrive.
        change(j, 1, 99);
        CompletableFuture<Long> firstCommit = j.commit();
        assertTrue(atFlush.await(10, SECONDS));

        int callers = 12;
        CyclicBarrier barrier = new CyclicBarrier(callers);
        List<CompletableFuture<Boolean>> durableWhenDone = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            long home = 200 + i;
            threads.add(new Thread(() -> {
                try {
                    barrier.await();
                    long tid = change(j, 1, home);
                    // Completion must mean: this caller's txn is durable.
                    durableWhenDone.add(j.commit().thenApply(t -> t >= tid && j.stats().durableTid() >= tid));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertFalse(firstCommit.isDone());
        release.countDown();
        firstCommit.get(10, SECONDS);
        for (CompletableFuture<Boolean> f : durableWhenDone) {
            assertTrue(f.get(10, SECONDS));
        }
        JournalStats s = j.stats();
        long flushes = s.flushes() - flushesBefore;
        assertTrue(flushes < callers + 1, "flushes " + flushes + " for " + (callers + 1) + " callers: " + s);
        // two commits (the first caller's, then one for the 12 waiting), each a pre-flush and a flush
        assertEquals(4, flushes, "the 12 waiting callers share one commit: " + s);
        assertEquals(2, s.commits());
        assertEquals(callers, s.maxBatch());
        assertEquals(callers + 1, s.commitCalls());

        j.halt();
        dev.close();
        BlockDevice dev2 = openDevice(p, JNA);
        Journal.recover(dev2, J_START, J_BLOCKS);
        for (int i = 0; i < callers; i++) {
            assertHome(dev2, 200 + i, 1);
        }
    }

    @Test
    void emptyCommitIsJustAFlush() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        JournalStats before = j.stats();
        assertEquals(-1L, j.commit().get(10, SECONDS));
        JournalStats after = j.stats();
        assertEquals(before.flushes() + 1, after.flushes());
        assertEquals(0, after.commits());
        assertEquals(1, after.emptyCommits());
    }

    @Test
    void logFullCheckpointsAndContinues() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        // 63 log blocks; a 3-image txn takes 5. Twenty of them need at least one checkpoint.
        int rounds = 20;
        for (int v = 1; v <= rounds; v++) {
            change(j, v, 100, 101 + v % 4, 200 + v);
            j.commit().get(10, SECONDS);
        }
        JournalStats s = j.stats();
        assertTrue(s.checkpoints() >= 1, s.toString());
        assertEquals(rounds, s.commits());
        // A checkpoint wrote early images home while the journal ran.
        assertHome(dev, 201, 1);
        j.halt();
        dev.close();

        BlockDevice dev2 = openDevice(p, JNA);
        Journal.recover(dev2, J_START, J_BLOCKS);
        assertHome(dev2, 100, rounds);
        for (int v = 1; v <= rounds; v++) {
            assertHome(dev2, 200 + v, v);
        }
        for (int k = 0; k < 4; k++) {
            int last = rounds - ((rounds - k) % 4 + 4) % 4; // last v with v % 4 == k
            assertHome(dev2, 101 + k, last);
        }
    }

    @Test
    void staleTransactionsFromAnEarlierPassAreNeverReplayed() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        change(j, 1, 100); // log blocks 1..3
        j.commit().get(10, SECONDS);
        change(j, 1, 101); // log blocks 4..6
        j.commit().get(10, SECONDS);
        j.checkpoint().get(10, SECONDS);
        change(j, 2, 101); // log blocks 1..3 again; 4..6 still hold the old txn on 101
        j.commit().get(10, SECONDS);
        j.halt();
        dev.close();

        BlockDevice dev2 = openDevice(p, JNA);
        ReplayResult r = Journal.recover(dev2, J_START, J_BLOCKS);
        assertEquals(1, r.transactions(), r.toString());
        assertTrue(r.endReason().contains("tid"), r.endReason());
        assertHome(dev2, 101, 2);
        assertHome(dev2, 100, 1);
    }

    @Test
    void callbacksRunAfterCommitThenAfterCheckpoint() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        long[] tids = new long[2];
        for (int i = 0; i < 2; i++) {
            String name = i == 0 ? "A" : "B";
            long home = 100 + i;
            Handle h = j.tryStart(1);
            fill(h.getWriteAccess(home, image(home), SEALER), home, 1);
            long tid = h.tid();
            tids[i] = tid;
            h.afterCommit(() -> events.add("commit " + name + " on " + Thread.currentThread().getName()
                    + " durable=" + (j.stats().durableTid() >= tid)));
            h.afterCheckpoint(() -> {
                boolean home1;
                try {
                    home1 = java.util.Arrays.equals(expected(home, 1), readBlock(dev, home));
                } catch (IOException e) {
                    home1 = false;
                }
                events.add("checkpoint " + name + " home=" + home1);
            });
            h.close();
            j.commit().get(10, SECONDS);
        }
        assertEquals(List.of("commit A on dionode-journal durable=true", "commit B on dionode-journal durable=true"),
                events);
        j.checkpoint().get(10, SECONDS);
        assertEquals(List.of("commit A on dionode-journal durable=true", "commit B on dionode-journal durable=true",
                "checkpoint A home=true", "checkpoint B home=true"), events);
        assertEquals(1, j.stats().checkpoints());
        // The log is empty: recovery after a crash now finds nothing.
        j.halt();
        assertEquals(0, Journal.recover(dev, J_START, J_BLOCKS).transactions());
    }

    @Test
    void tryStartRefusesPastTheBoundAndOnSpaceFiresAfterTheSwitch() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet().withMaxTxnBlocks(4).withCommitThreshold(4));
        assertEquals(4, j.maxTxnBlocks());
        assertThrows(IllegalArgumentException.class, () -> j.tryStart(5));

        long tid = change(j, 1, 100, 101, 102);
        assertNull(j.tryStart(2), "3 + 2 blocks exceed the bound of 4");
        Handle one = j.tryStart(1);
        assertNotNull(one);
        one.close(); // unused credits are given back
        assertEquals(1, j.stats().handlesRefused());

        CountDownLatch space = new CountDownLatch(1);
        AtomicInteger fired = new AtomicInteger();
        j.onSpace(() -> {
            fired.incrementAndGet();
            space.countDown();
        });
        assertTrue(space.await(10, SECONDS));
        Handle h = j.tryStart(2);
        assertNotNull(h, "room after the running txn was switched");
        assertEquals(tid + 1, h.tid());
        h.close();
        await(() -> j.stats().durableTid() == tid, "the switched txn to commit");
        assertEquals(1, fired.get());
    }

    @Test
    void handleRulesAreEnforced() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        Handle h = j.tryStart(1);
        try {
            h.getWriteAccess(100, image(100), SEALER);
            h.getWriteAccess(100, image(100), SEALER); // same block again: no credit
            assertThrows(IllegalStateException.class, () -> h.getWriteAccess(101, image(101), SEALER));
            assertThrows(IllegalStateException.class, () -> h.getWriteAccess(100, new byte[BS], SEALER));
            assertThrows(IllegalArgumentException.class, () -> h.getWriteAccess(J_START + 3, new byte[BS], null));
            assertThrows(IllegalArgumentException.class, () -> h.getWriteAccess(1 << 20, new byte[BS], null));
            assertThrows(IllegalArgumentException.class, () -> h.getWriteAccess(102, new byte[100], null));
            Thread other = new Thread(() -> assertThrows(IllegalStateException.class,
                    () -> h.getWriteAccess(103, new byte[BS], null)));
            other.start();
            other.join();
        } finally {
            h.close();
        }
        h.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> h.getWriteAccess(100, image(100), SEALER));
    }

    @Test
    void commitIntervalUsesTheInjectedClock() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet().withCommitInterval(Duration.ofSeconds(1)));
        long tid = change(j, 1, 100);
        j.wakeUp();
        assertEquals(0, j.stats().commits());
        clock.advance(Duration.ofMillis(999));
        j.wakeUp();
        clock.advance(Duration.ofMillis(1));
        j.wakeUp();
        await(() -> j.stats().durableTid() == tid, "the interval commit");
        assertEquals(1, j.stats().commits());
    }

    @Test
    void sizeThresholdTriggersCommit() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet().withMaxTxnBlocks(8).withCommitThreshold(3));
        change(j, 1, 100, 101);
        assertEquals(0, j.stats().commits());
        long tid = change(j, 1, 102);
        await(() -> j.stats().durableTid() == tid, "the threshold commit");
    }

    @Test
    void closeCommitsAndCheckpointsAndIsIdempotent() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        AtomicInteger ran = new AtomicInteger();
        Handle h = j.tryStart(2);
        fill(h.getWriteAccess(100, image(100), SEALER), 100, 7);
        fill(h.getWriteAccess(101, image(101), SEALER), 101, 7);
        h.afterCommit(ran::incrementAndGet);
        h.afterCheckpoint(ran::incrementAndGet);
        h.close();
        j.close();
        j.close();
        assertEquals(2, ran.get());
        assertHome(dev, 100, 7);
        assertHome(dev, 101, 7);
        assertThrows(IllegalStateException.class, () -> j.tryStart(1));
        assertTrue(j.commit().isCompletedExceptionally());
        assertEquals(0, Journal.recover(dev, J_START, J_BLOCKS).transactions());
    }

    @Test
    void closeWhileHoldingAHandleIsRefusedNotADeadlock() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet());
        Handle h = j.tryStart(1);
        assertThrows(IllegalStateException.class, j::close);
        h.close();
        j.close();
    }

    @Test
    void multiDescriptorTransactionReplays() throws Exception {
        Path p = newDeviceFile(8L << 20); // 2048 blocks
        BlockDevice dev = openDevice(p, JNA);
        long start = 16;
        long blocks = 1024;
        Journal.format(dev, start, blocks);
        Journal.recover(dev, start, blocks);
        Journal j = track(Journal.open(dev, start, blocks, quiet().withMaxTxnBlocks(700), clock));
        assertEquals(700, j.maxTxnBlocks());
        long[] homes = new long[700];
        for (int i = 0; i < homes.length; i++) {
            homes[i] = 1100 + i;
        }
        change(j, 3, homes);
        j.commit().get(10, SECONDS);
        assertEquals(704, j.stats().logBlocksWritten()); // 3 descriptors + 700 images + commit
        j.halt();
        dev.close();

        BlockDevice dev2 = openDevice(p, JNA);
        ReplayResult r = Journal.recover(dev2, start, blocks);
        assertEquals(1, r.transactions());
        assertEquals(700, r.blocksWritten());
        assertHome(dev2, 1100, 3);
        assertHome(dev2, 1799, 3);
    }

    static void awaitQuietly(CountDownLatch l) {
        try {
            l.await(10, SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
