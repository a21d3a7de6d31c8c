package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.inode.NodeCounters;
import dionode.node.server.Binding;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.node.server.WireLimits;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.wire.Wire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The NBD listener under the node's wire limits, through the real server: a request begun and not
 * finished ends its connection after the frame timeout; a client that does not read its replies
 * stops being read, and the node's native clients are served meanwhile.
 */
class NbdBackpressureTest {
    static Path device;
    static NodeServer node;
    static Binding binding;
    static int port;
    static NodeClient nativeClient;
    static FileId diskIno;
    static byte[] pattern = new byte[Wire.MAX_IO_BYTES];

    @BeforeAll
    static void start() throws Exception {
        device = TestNodes.newDevicePath();
        node = NodeServer.start(TestNodes.config(device, 64L << 20, LockPolicy.ZEROING_AWARE)
                .withWire(WireLimits.defaults().withFrameTimeout(Duration.ofMillis(300))), new dionode.node.device.JnaNativeIO());
        binding = new NbdServer(node.dispatcher(), node.volume().device().sectorSize(), 64, node.transport())
                .bind(node.system(), "127.0.0.1", 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
        port = binding.localAddress().getPort();
        nativeClient = NodeClient.connect("127.0.0.1", node.address().getPort());
        diskIno = nativeClient.create("disk", LockPolicy.ZEROING_AWARE, 0644, true).toCompletableFuture().get().file();
        for (int i = 0; i < pattern.length; i += 512) {
            pattern[i] = (byte) (i >>> 9);
        }
        nativeClient.write(diskIno, 0, pattern, 0).toCompletableFuture().get();
    }

    @AfterAll
    static void stop() throws Exception {
        nativeClient.close();
        binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        node.close();
        Files.deleteIfExists(device);
    }

    @Test
    void aWriteWhosePayloadStopsHalfwayEndsItsConnectionAfterTheFrameTimeout() throws Exception {
        long before = node.counters().get(NodeCounters.FRAME_TIMEOUTS);
        try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            c.request(0, Nbd.CMD_WRITE, 1, 0, 64 << 10, new byte[100]);
            c.flush();
            long started = System.nanoTime();
            assertTrue(c.closedByServer(), "a half-sent WRITE is not held open");
            assertTrue(System.nanoTime() - started >= 250_000_000L, "closed before the frame timeout");
        }
        assertEquals(before + 1, node.counters().get(NodeCounters.FRAME_TIMEOUTS));
    }

    @Test
    void aClientThatDoesNotReadItsRepliesStopsBeingReadWhileOthersAreServed() throws Exception {
        long readsBefore = node.counters().get(NodeCounters.READS);
        int reads = 20;
        try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            for (int i = 0; i < reads; i++) {
                c.read(i, 0, Wire.MAX_IO_BYTES);
            }
            c.flush();
            long executed = TestNodes.settle(() -> node.counters().get(NodeCounters.READS)) - readsBefore;
            assertTrue(executed <= NbdServer.DEFAULT_BUDGET_BYTES / Wire.MAX_IO_BYTES + 1,
                    executed + " reads run for a client that reads no reply");
            long held = node.transport().budget().heldBytes();
            assertTrue(held <= NbdServer.DEFAULT_BUDGET_BYTES + 2 * WireLimits.READ_BYTES, held + " bytes held");
            byte[] small = new byte[4096];
            small[0] = 1;
            FileId other = nativeClient.create("other", null, 0644, true).toCompletableFuture().get(10, TimeUnit.SECONDS).file();
            nativeClient.write(other, 0, small, 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertArrayEquals(small, nativeClient.read(other, 0, 4096, 0).toCompletableFuture().get(10, TimeUnit.SECONDS));

            Set<Long> answered = new HashSet<>();
            for (int i = 0; i < reads; i++) {
                TestNbdClient.SimpleReply r = c.reply();
                assertEquals(0, r.error());
                assertArrayEquals(pattern, r.data(), "read " + r.handle());
                answered.add(r.handle());
            }
            assertEquals(reads, answered.size());
        }
    }
}
