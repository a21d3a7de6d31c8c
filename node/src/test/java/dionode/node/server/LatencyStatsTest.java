package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.JnaNativeIO;
import dionode.node.inode.GatedDataPath;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-stage latency {@code stats} shows, through the real server and device: a write held at
 * the device shows as device time, a truncate queued behind it as lock time, and neither as the
 * other's (DESIGN §6).
 */
class LatencyStatsTest {
    private static final long HOLD_MS = 300;
    private final Path device;

    LatencyStatsTest() throws Exception {
        device = TestNodes.newDevicePath();
    }

    @AfterEach
    void remove() throws Exception {
        Files.deleteIfExists(device);
    }

    @Test
    void aSlowDeviceAndALockWaitShowInTheirOwnStages() throws Exception {
        GatedDataPath[] gate = new GatedDataPath[1];
        NodeConfig config = TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE);
        try (NodeServer node = NodeServer.start(config, new JnaNativeIO(), real -> gate[0] = new GatedDataPath(real));
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            FileId file = c.create("f", null, 0644, true).toCompletableFuture().join().file();
            c.write(file, 0, new byte[4 * 4096], 0).toCompletableFuture().join();
            Map<String, Long> before = c.stats().toCompletableFuture().join();
            assertTrue(before.containsKey("latency_device_p99_us"), "stats has the stage figures: " + before.keySet());

            gate[0].close();
            long start = System.nanoTime();
            CompletionStage<Long> overwrite = c.write(file, 0, new byte[4096], 0); // shared: held at the device
            gate[0].awaitHeld(1);
            CompletionStage<Void> truncate = c.truncate(file, 8192); // exclusive: waits for the overwrite's lock
            Thread.sleep(HOLD_MS);
            gate[0].open();
            overwrite.toCompletableFuture().join();
            truncate.toCompletableFuture().join();
            long elapsedUs = (System.nanoTime() - start) / 1000;

            Map<String, Long> after = settledWindow(c, 3);
            assertEquals(3, after.get("latency_requests"), "the first write, the overwrite and the truncate: " + after);
            long holdUs = HOLD_MS * 1000;
            assertTrue(after.get("latency_device_p99_us") >= holdUs && after.get("latency_device_p99_us") <= elapsedUs,
                    "the held overwrite's device time: " + after);
            assertTrue(after.get("latency_lock_p99_us") >= holdUs - 50_000 && after.get("latency_lock_p99_us") <= elapsedUs,
                    "the truncate's wait for i_rwsem (and the overwrite's drain): " + after);
            assertTrue(after.get("latency_device_p50_us") < holdUs, "one of three was held at the device: " + after);
            assertTrue(after.get("latency_queue_p99_us") < holdUs, "nothing waited that long before its actor: " + after);
            assertTrue(after.get("latency_total_p99_us") >= holdUs, after.toString());
        }
    }

    /** Stats once the once-a-second rotation has taken in {@code requests} requests (waiting at most 5 s). */
    private static Map<String, Long> settledWindow(NodeClient c, long requests) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        Map<String, Long> stats = c.stats().toCompletableFuture().join();
        while (stats.get("latency_requests") < requests && System.nanoTime() < deadline) {
            Thread.sleep(100);
            stats = c.stats().toCompletableFuture().join();
        }
        return stats;
    }
}
