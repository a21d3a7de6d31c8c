package dionode.node.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.fs.Problem;
import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Power loss rather than kill -9: the crash-loop workload runs against an in-process node whose
 * device has a volatile write cache ({@link PowerCutIO}); at a random moment the power is cut, so
 * every sector written since the last device flush keeps any one of its versions. Then the same
 * checks as the crash loop: acknowledged-durable data reads back, nothing stale or foreign is
 * exposed (the device starts full of stale sectors), fsck is clean.
 *
 * <p>This is the guarantee DESIGN §5 states ("survives kill -9 and power loss"; "a crash never
 * leaves a written-extent pointing at blocks whose data was not written"): it needs the data
 * writes that a transaction's conversions depend on to be on the media before that
 * transaction's commit record can be. Bounded by {@code dionode.powercut.iterations} (default 10)
 * and {@code dionode.powercut.seconds} (default 30).
 */
class PowerCutTest {
    private static final long SIZE = 128 * Fixture.MIB;
    private static Path device;

    @BeforeAll
    static void createDevice() throws Exception {
        device = Fixture.newDevice("power-cut");
        Fixture.staleFormattedDevice(device, SIZE);
    }

    @AfterAll
    static void removeDevice() {
        Fixture.deleteQuietly(device);
    }

    /** Collects printed lines; {@link #snapshot} is what was printed before the cut. */
    static final class Lines extends OutputStream {
        private final StringBuilder cur = new StringBuilder();
        private final List<String> lines = new ArrayList<>();

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                lines.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append((char) b);
            }
        }

        synchronized List<String> snapshot() {
            return new ArrayList<>(lines);
        }

        synchronized boolean contains(String prefix) {
            return lines.stream().anyMatch(l -> l.startsWith(prefix));
        }
    }

    /**
     * Ordered mode across a power cut, deterministically: a write into a hole puts its data on the
     * device (not flushed), then fsync writes the transaction that converts those blocks to written
     * and flushes. The power fails just before that flush, and the disk had persisted the journal
     * write but not the data write (a volatile cache may do that). Replay must not then show the
     * blocks as written: they would expose whatever the disk held before (DESIGN §5: "a crash
     * never leaves a written-extent pointing at blocks whose data was not written"; jbd2 flushes
     * the data before the commit block for this). Fails while LogWriter.write writes descriptor,
     * images and commit record in one pwrite with no flush before it.
     */
    @Test
    @Timeout(60)
    void conversionCommitNeverReachesTheMediaBeforeItsData() throws Exception {
        Path dev = Fixture.newDevice("power-cut-order");
        try {
            Fixture.staleFormattedDevice(dev, 32 * Fixture.MIB);
            PowerCutIO io = new PowerCutIO(Fixture.JNA);
            FileId ino;
            byte[] data = Sectors.payload(1, 1, 0, 0, 64 << 10, 7);
            try (NodeServer node = Fixture.start(Fixture.config(dev, 32 * Fixture.MIB, Duration.ofHours(1)), io);
                    NodeClient c = Fixture.client(node)) {
                dionode.node.meta.Layout l = node.volume().layout();
                long journalFrom = l.journalStart() * Fixture.B;
                long journalTo = (l.journalStart() + l.journalBlocks()) * Fixture.B;
                ino = Fixture.join(c.create("f", null, 0644, true)).file();
                Fixture.join(c.fsync(ino));
                Fixture.join(c.write(ino, 0, data, 0));
                // the disk keeps the journal's writes and loses the rest (the data)
                io.keepOnly((off, len) -> off < journalTo && off + len > journalFrom);
                io.cutBeforeFlush(1, new Random(1), () -> { });
                Fixture.join(c.fsync(ino));
                assertTrue(io.awaitCut(10_000));
            }
            try (NodeServer node = Fixture.start(Fixture.config(dev, 32 * Fixture.MIB, Duration.ofMillis(200)), Fixture.JNA);
                    NodeClient c = Fixture.client(node)) {
                byte[] back = Fixture.join(c.read(ino, 0, data.length, 0));
                for (int at = 0; at + Sectors.SECTOR <= back.length; at += Sectors.SECTOR) {
                    Sectors.Id id = Sectors.decode(back, at);
                    assertTrue(id == null || id.iteration() == 1, "sector " + at / Sectors.SECTOR
                            + " after replay: " + id + " (a written extent over data that never reached the media)");
                }
            }
            assertEquals(List.of(), Fixture.fsck(dev));
        } finally {
            Fixture.deleteQuietly(dev);
        }
    }

    @Test
    @Timeout(value = 20, unit = java.util.concurrent.TimeUnit.MINUTES)
    void powerCutAtRandomPointsKeepsDurableDataAndExposesNothingStale() throws Exception {
        int iterations = Integer.getInteger("dionode.powercut.iterations", 10);
        long seconds = Long.getLong("dionode.powercut.seconds", 30);
        long seed = Long.getLong("dionode.powercut.seed", System.nanoTime());
        Random rnd = new Random(seed);
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        int done = 0;
        long rolledBack = 0;
        long durable = 0;
        for (int it = 1; it <= iterations && System.nanoTime() < deadline; it++) {
            long interval = rnd.nextInt(3) == 0 ? 5 : 60_000;
            long cutAfter = 100 + rnd.nextInt(1500);
            boolean atFlush = it % 2 == 0;
            boolean whole = rnd.nextInt(4) != 0;
            PowerCutIO io = new PowerCutIO(Fixture.JNA).wholeWrites(whole);
            Lines lines = new Lines();
            PrintStream out = new PrintStream(lines, true, StandardCharsets.UTF_8);
            List<String> atCut;
            try (NodeServer node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(interval)), io)) {
                CrashWorkload w = new CrashWorkload(node.address().getPort(), seed + it, it, out);
                Thread t = new Thread(() -> {
                    try {
                        w.run();
                    } catch (Exception e) {
                        out.println("X workload " + e);
                    }
                }, "power-cut-workload");
                t.start();
                long wait = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!lines.contains("READY") && System.nanoTime() < wait) {
                    Thread.sleep(5);
                }
                assertTrue(lines.contains("READY"), "workload ready: " + lines.snapshot());
                List<List<String>> seen = new ArrayList<>();
                if (atFlush) {
                    // just before a device flush: a commit record may be written and not yet flushed
                    io.cutBeforeFlush(cutAfter / 10, rnd, () -> seen.add(lines.snapshot()));
                    assertTrue(io.awaitCut(60_000), "the node flushed " + cutAfter / 10 + " times");
                } else {
                    Thread.sleep(cutAfter);
                    io.cut(rnd, () -> seen.add(lines.snapshot()));
                }
                atCut = seen.get(0);
                w.stop();
                t.join(60_000);
            }
            rolledBack += io.sectorsRolledBack();
            String where = "iteration " + it + " (seed " + seed + ", cut " + (atFlush ? "before flush " + cutAfter / 10
                    : cutAfter + " ms") + " after READY, interval " + interval
                    + " ms, " + (whole ? "whole writes" : "sectors") + " reordered, " + io.sectorsRolledBack() + " of " + io.sectorsDirtyAtCut() + " unflushed sectors rolled back)";
            CrashModel model = new CrashModel(it, atCut);
            durable += model.durablePoints;
            assertEquals(List.of(), Fixture.fsck(device), "fsck right after the power cut, " + where);
            try (NodeServer node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                    NodeClient c = Fixture.client(node)) {
                CrashModel.Verdict v = model.verify(c);
                assertEquals(List.of(), v.failures, where);
            }
            List<Problem> after = Fixture.fsck(device);
            assertEquals(List.of(), after, "fsck after the restart, " + where);
            done++;
        }
        System.out.printf("power cut: %d iterations verified, %d durable acknowledgements, %d unflushed sectors rolled back,"
                + " seed %d%n", done, durable, rolledBack, seed);
        assertNotNull(device);
        assertTrue(done >= 1);
    }
}
