package dionode.node.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dionode.node.fs.Problem;
import dionode.node.server.NodeServer;
import dionode.protocol.client.NodeClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The crash loop of issue 4: a child JVM runs a node on a device file under concurrent writers
 * that fsync and write durably ({@link CrashWorkload}); the parent SIGKILLs it at a random moment,
 * restarts a node on the same device, and checks with {@link CrashModel} that every
 * acknowledged-durable byte reads back, that nothing else is there but zeros or data a crash may
 * leave (no other file's data, nothing stale), that fiemap's unwritten ranges read as zeros, and
 * that fsck is clean, both straight after the crash and after the restart. The device carries on
 * from one iteration to the next, so each child also starts from a recovered image.
 *
 * <p>Bounded by {@code dionode.crash.iterations} (default 20) and {@code dionode.crash.seconds}
 * (default 60), whichever comes first; raise both for a soak run. {@code dionode.crash.seed} fixes
 * the random kill points and workloads.
 */
class CrashLoopTest {
    private static final long SIZE = 192 * Fixture.MIB;
    private static Path device;
    private static Path log;

    @BeforeAll
    static void createDevice() throws Exception {
        device = Fixture.newDevice("crash-loop");
        log = Fixture.dir().resolve("crash-loop-child.log");
        Files.deleteIfExists(log);
        Fixture.staleFormattedDevice(device, SIZE);
    }

    @AfterAll
    static void removeDevice() {
        Fixture.deleteQuietly(device);
    }

    @Test
    @Timeout(value = 30, unit = java.util.concurrent.TimeUnit.MINUTES)
    void killNineAtRandomPointsKeepsEveryDurableByte() throws Exception {
        int iterations = Integer.getInteger("dionode.crash.iterations", 20);
        long seconds = Long.getLong("dionode.crash.seconds", 60);
        long seed = Long.getLong("dionode.crash.seed", System.nanoTime());
        Random rnd = new Random(seed);
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        long ops = 0;
        long acked = 0;
        long durablePoints = 0;
        long sectors = 0;
        long withData = 0;
        int done = 0;
        int blindEarly = 0;
        for (int it = 1; it <= iterations && System.nanoTime() < deadline; it++) {
            // commit interval: mostly long (only fsync/durable/full commits), sometimes short
            long interval = rnd.nextInt(3) == 0 ? 5 : 60_000;
            long killAfter = rnd.nextInt(4) == 0 ? rnd.nextInt(150) : 150 + rnd.nextInt(2500);
            Path opLog = device.resolveSibling("crash-loop-ops.log");
            Files.deleteIfExists(opLog);
            ChildJvm child = ChildJvm.start(CrashChild.class, log, "loop", device.toString(), Long.toString(SIZE),
                    Long.toString(seed + it), Integer.toString(it), Long.toString(interval), opLog.toString());
            // one in five children is killed blind, possibly while it mounts (journal replay, orphan
            // cleanup of the previous crash) or unlinks the previous iteration's files
            boolean blind = rnd.nextInt(5) == 0;
            long blindAfter = 200 + rnd.nextInt(2500);
            String ready;
            try {
                ready = child.await("READY", blind ? blindAfter : 60_000);
                if (ready != null && !blind) {
                    Thread.sleep(killAfter);
                }
            } finally {
                child.kill();
            }
            if (blind) {
                ready = !Files.exists(opLog) ? null
                        : Files.readAllLines(opLog).stream().filter(l -> l.startsWith("READY")).findFirst().orElse(null);
            }
            List<String> lines = Files.exists(opLog) ? Files.readAllLines(opLog) : List.of();
            if (Boolean.getBoolean("dionode.crash.checkPipe") && lines.size() != child.lines().size()) {
                System.out.printf("iteration %d: %d lines in the file, %d through the pipe%n", it, lines.size(),
                        child.lines().size());
            }
            CrashModel model = new CrashModel(it, lines);
            String where = "iteration " + it + " (seed " + seed + ", kill " + (blind ? blindAfter + " ms after the start"
                    : killAfter + " ms after READY") + ", interval " + interval + " ms)";
            // fsck straight after the crash: replay only, orphans still pending
            List<Problem> crashed = Fixture.fsck(device);
            if (!crashed.isEmpty()) {
                keep(it);
            }
            assertEquals(List.of(), crashed, "fsck right after the crash, " + where);
            if (ready == null && !blind) {
                fail("the child never became READY, " + where + "; its stderr is in " + log + "; stdout " + child.lines());
            }
            if (ready == null) {
                // killed during mount or setup: the image must still mount, and be clean after
                try (NodeServer node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(200)), Fixture.JNA)) {
                    node.address();
                }
                assertEquals(List.of(), Fixture.fsck(device), "fsck after a kill during setup, " + where);
                blindEarly++;
                continue;
            }
            try (NodeServer node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                    NodeClient c = Fixture.client(node)) {
                CrashModel.Verdict v = model.verify(c);
                if (!v.failures.isEmpty()) {
                    keep(it);
                    Files.write(device.resolveSibling("crash-loop-failed-" + it + ".lines"), lines);
                }
                assertEquals(List.of(), v.failures, where);
                sectors += v.sectorsChecked;
                withData += v.sectorsWithData;
            }
            List<Problem> after = Fixture.fsck(device);
            assertEquals(List.of(), after, "fsck after the restart, " + where);
            ops += model.opsIssued;
            acked += model.opsAcked;
            durablePoints += model.durablePoints;
            done++;
        }
        System.out.printf("crash loop: %d iterations verified (+%d killed before READY), %d operations issued, %d acknowledged,"
                + " %d durable acknowledgements, %d sectors checked (%d with data), seed %d%n", done, blindEarly, ops,
                acked, durablePoints, sectors, withData, seed);
        assertTrue(done >= 1, "at least one iteration verified");
        assertNotNull(device);
    }

    private static void keep(int it) throws Exception {
        Path copy = device.resolveSibling("crash-loop-failed-" + it + ".img");
        Files.copy(device, copy, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("kept the image as " + copy + "; child log " + log);
    }
}
