package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dionode.node.device.JnaNativeIO;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A request that makes no progress is logged once, with the inode's lock state: a wedge is never silent. */
class StallWarningTest {

    @Test
    void aStuckRequestIsWarnedOnceWithTheLockState() throws Exception {
        Path device = TestNodes.newDevicePath();
        NodeConfig config = TestNodes.config(device, 16 << 20, LockPolicy.ZEROING_AWARE)
                .withTimes(Duration.ofMillis(200), Duration.ofMillis(50));
        GatedDataPath[] gate = new GatedDataPath[1];
        Logger log = (Logger) LoggerFactory.getLogger(InodeActor.class);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try (NodeServer node = NodeServer.start(config, new JnaNativeIO(), real -> gate[0] = new GatedDataPath(real));
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            FileId ino = c.create("f", null, 0644, true).toCompletableFuture().join().file();
            gate[0].close();
            CompletionStage<Long> w = c.write(ino, 0, new byte[4096], 0);
            gate[0].awaitHeld(1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (warnings(seen).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Thread.sleep(300);
            List<String> stuck = warnings(seen);
            assertEquals(1, stuck.size(), "one warning per stall: " + stuck);
            assertTrue(stuck.get(0).startsWith("inode " + ino.ino() + ": 1 requests made no progress"), stuck.get(0));
            assertTrue(stuck.get(0).contains("writer=true"), "the lock state is in the warning: " + stuck.get(0));
            gate[0].open();
            assertEquals(4096L, w.toCompletableFuture().get(10, TimeUnit.SECONDS));
            Thread.sleep(300);
            assertEquals(1, warnings(seen).size(), "nothing more once the request finished");
        } finally {
            log.detachAppender(seen);
            Files.deleteIfExists(device);
        }
    }

    private static List<String> warnings(ListAppender<ILoggingEvent> seen) {
        synchronized (seen) {
            return seen.list.stream().filter(e -> e.getFormattedMessage().contains("made no progress"))
                    .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }
}
