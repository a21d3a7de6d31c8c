package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.CliRunner.Result;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code dionode members} on a node without a cluster, and serve's refusals of cluster options. */
class MembersTest {
    @Test
    void aLoneNodeAnswersItselfUpAndReachableWithItsVolume() throws Exception {
        Path device = TestNodes.newDevicePath();
        try (NodeServer node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            String address = "127.0.0.1:" + node.address().getPort();
            String volume = node.volume().superblock().volumeId().toString();
            assertEquals(List.of(new Reply.Member(address, volume, "up", true)), c.members().toCompletableFuture().get(10, TimeUnit.SECONDS));

            Result human = CliRunner.run("members", "--target", address);
            assertEquals(0, human.code(), human::toString);
            assertEquals(address + " " + volume + " up reachable\n", human.out());

            Result json = CliRunner.run("members", "--json", "--target", address);
            assertEquals(0, json.code(), json::toString);
            assertEquals(List.of(Map.of("address", address, "volume", volume, "status", "up", "reachable", true)),
                    TestJson.parse(json.out()));
        }
        Files.deleteIfExists(device);
    }

    @Test
    void serveRefusesAnUnencryptedClusterOffLoopbackAndSeedsWithoutABindAddress() throws Exception {
        Path device = TestNodes.newDevicePath();
        Result open = CliRunner.run("serve", "--device", device.toString(), "--cluster-bind", "0.0.0.0:25520");
        assertEquals(2, open.code(), open::toString);
        assertTrue(open.stderr().contains("refusing to join a cluster on 0.0.0.0") && open.stderr().contains("--insecure"),
                open.stderr());
        Result seedsOnly = CliRunner.run("serve", "--device", device.toString(), "--seed-nodes", "127.0.0.1:25520");
        assertEquals(2, seedsOnly.code(), seedsOnly::toString);
        assertTrue(seedsOnly.stderr().startsWith("--seed-nodes needs --cluster-bind"), seedsOnly.stderr());
        assertTrue(!Files.exists(device), "refused before the device was created");
    }
}
