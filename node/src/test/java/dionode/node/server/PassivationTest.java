package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.node.device.JnaNativeIO;
import dionode.node.inode.InodeRegion;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Idle inode actors stop, and the next request brings the file back from the volume. */
class PassivationTest {

    private static int children(NodeServer node) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        node.region().tell(new InodeRegion.CountChildren(f));
        return f.join();
    }

    @Test
    void idleActorsArePassivatedAndReloadOnDemand() throws Exception {
        Path device = TestNodes.newDevicePath();
        NodeConfig config = TestNodes.config(device, 64 << 20, LockPolicy.ALIGNED_SHARED)
                .withTimes(Duration.ofMillis(200), Duration.ofMillis(50));
        try (NodeServer node = NodeServer.start(config, new JnaNativeIO(), Function.identity());
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            FileId[] inos = new FileId[5];
            byte[] data = new byte[8192];
            data[100] = 1;
            for (int i = 0; i < inos.length; i++) {
                inos[i] = c.create("f" + i, null, 0644, true).toCompletableFuture().join().file();
                c.write(inos[i], 0, data, 0).toCompletableFuture().join();
            }
            assertEquals(5, children(node));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (children(node) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, children(node), "idle inode actors passivated");
            for (FileId ino : inos) {
                assertArrayEquals(data, c.read(ino, 0, 8192, 0).toCompletableFuture().join());
                assertEquals(LockPolicy.ALIGNED_SHARED, c.stat(ino).toCompletableFuture().join().policy());
            }
        } finally {
            Files.deleteIfExists(device);
        }
    }
}
