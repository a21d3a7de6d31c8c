package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import dionode.node.crash.ChildJvm;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Three {@code dionode serve} JVMs on 127.0.0.1 joined through the first as seed: each sees the
 * three up; after a SIGKILL of one, the two others see it unreachable, then the split brain
 * resolver (keep-majority: two of three) downs and removes it, and both go on serving their own
 * files. Every wait is bounded.
 */
class ThreeNodeClusterTest {
    private static final int NODES = 3;

    @Test
    void threeNodesSeeEachOtherUpAndTheTwoLeftRemoveTheOneKilled() throws Exception {
        int[] clusterPorts = TestNodes.freePorts(NODES);
        String seed = "127.0.0.1:" + clusterPorts[0];
        List<ChildJvm> children = new ArrayList<>();
        List<Path> devices = new ArrayList<>();
        List<NodeClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                Path device = TestNodes.newDevicePath();
                devices.add(device);
                children.add(ChildJvm.start(Main.class, log(device), "serve", "--device", device.toString(), "--size", "64M",
                        "--port", "0", "--cluster-bind", "127.0.0.1:" + clusterPorts[i], "--seed-nodes", seed));
            }
            for (int i = 0; i < NODES; i++) {
                String listening = children.get(i).await("listening on 127.0.0.1:", 30_000);
                Path log = log(devices.get(i));
                assertNotNull(listening, () -> "node did not start; stderr: " + read(log));
                clients.add(NodeClient.connect("127.0.0.1", Integer.parseInt(listening.substring(listening.lastIndexOf(':') + 1))));
            }
            for (NodeClient c : clients) {
                List<Reply.Member> seen = awaitMembers(c, 30_000, "3 members up", ms -> ms.size() == NODES
                        && ms.stream().allMatch(m -> m.status().equals("up") && m.reachable()));
                Set<String> volumes = new HashSet<>();
                for (Reply.Member m : seen) {
                    volumes.add(UUID.fromString(m.volume()).toString());
                }
                assertEquals(NODES, volumes.size(), () -> "each node announces its own volume: " + seen);
            }

            String killed = "pekko://dionode@127.0.0.1:" + clusterPorts[2];
            children.get(2).kill();
            List<NodeClient> survivors = clients.subList(0, 2);
            for (NodeClient c : survivors) {
                awaitMembers(c, 15_000, killed + " unreachable", ms -> ms.stream()
                        .anyMatch(m -> m.address().equals(killed) && !m.reachable()));
            }
            for (NodeClient c : survivors) {
                awaitMembers(c, 25_000, killed + " down or removed, the two others up", ms -> ms.stream()
                        .allMatch(m -> m.address().equals(killed) ? Set.of("down", "removed").contains(m.status())
                                : m.status().equals("up") && m.reachable())
                        && ms.stream().filter(m -> !m.address().equals(killed)).count() == 2);
            }

            for (int i = 0; i < survivors.size(); i++) {
                NodeClient c = survivors.get(i);
                byte[] data = new byte[8192];
                java.util.Arrays.fill(data, (byte) (i + 1));
                FileId f = get(c.create("after-partition-" + i, null, 0644, true)).file();
                assertEquals(8192L, get(c.write(f, 0, data, 0)));
                assertArrayEquals(data, get(c.read(f, 0, 8192, 0)));
            }
        } finally {
            for (NodeClient c : clients) {
                c.close();
            }
            for (ChildJvm child : children) {
                child.close();
            }
            for (Path device : devices) {
                Files.deleteIfExists(device);
            }
        }
    }

    /** Polls {@code c}'s members until {@code wanted} holds; fails with the last answer after {@code millis}. */
    private static List<Reply.Member> awaitMembers(NodeClient c, long millis, String what, Predicate<List<Reply.Member>> wanted)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<Reply.Member> last;
        do {
            last = get(c.members());
            if (wanted.test(last)) {
                return last;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        return fail("not " + what + " within " + millis + " ms; last answer: " + last);
    }

    private static <T> T get(java.util.concurrent.CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static Path log(Path device) {
        return device.resolveSibling(device.getFileName() + ".log");
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
