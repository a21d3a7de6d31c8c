package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dionode.node.device.JnaNativeIO;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.util.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.junit.jupiter.api.Test;

/**
 * A node in a cluster of one (its own seed): it lists itself up with its volume; once downed, its
 * cluster extension stops but the node keeps serving its own volume and lists itself removed.
 */
class ClusterMemberTest {
    @Test
    void aDownedMemberListsItselfRemovedAndStillServesItsVolume() throws Exception {
        Path device = TestNodes.newDevicePath();
        HostPort bind = new HostPort("127.0.0.1", TestNodes.freePorts(1)[0]);
        NodeConfig config = TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE)
                .withCluster(NodeConfig.ClusterConfig.of(bind, List.of(bind)));
        try (NodeServer node = NodeServer.start(config, new JnaNativeIO());
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            String address = "pekko://dionode@" + bind;
            String volume = node.volume().superblock().volumeId().toString();
            awaitMembers(c, List.of(new Reply.Member(address, volume, "up", true)));

            Cluster cluster = Cluster.get(node.system());
            cluster.manager().tell(new Down(cluster.selfMember().address()));
            awaitMembers(c, List.of(new Reply.Member(address, volume, "removed", true)));

            FileId f = get(c.create("after-down", null, 0644, true)).file();
            byte[] data = new byte[4096];
            data[7] = 7;
            assertEquals(4096L, get(c.write(f, 0, data, 0)));
            assertArrayEquals(data, get(c.read(f, 0, 4096, 0)));
        }
        Files.deleteIfExists(device);
    }

    /** Polls members until they are {@code wanted}, for at most 20 s. */
    private static void awaitMembers(NodeClient c, List<Reply.Member> wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<Reply.Member> last;
        do {
            last = get(c.members());
            if (wanted.equals(last)) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        fail("members not " + wanted + " within 20 s; last answer: " + last);
    }

    private static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
