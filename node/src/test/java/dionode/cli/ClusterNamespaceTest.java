package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dionode.node.crash.ChildJvm;
import dionode.node.server.TestNodes;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.ClusterClient;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.util.HostPort;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Three {@code dionode serve} JVMs on 127.0.0.1, each with its own device, serving one namespace
 * (DESIGN §7): a file put through one node reads back through the others; stat through each names
 * the same volume and node; a name is created once cluster-wide; with one node SIGKILLed the
 * others' files keep serving and its files answer EHOSTDOWN within --remote-timeout; restarted on
 * its device it serves every fsync'd byte again; fio over NBD on one node writes a file on another.
 * Every wait is bounded.
 */
class ClusterNamespaceTest {
    private static final int NODES = 3;
    private static final int TIMEOUT_MS = 2000;
    /** Each node's budget of requests in flight per connection (serve --parallelism). */
    private static final int PARALLELISM = 16;

    private final int[] clusterPorts = freePorts();
    private final String seed = "127.0.0.1:" + clusterPorts[0];
    private final List<Path> devices = new ArrayList<>();
    private final ChildJvm[] children = new ChildJvm[NODES];
    private final NodeClient[] clients = new NodeClient[NODES];
    private final int[] nbdPorts = new int[NODES];
    private final int[] nativePorts = new int[NODES];

    @Test
    void oneNamespaceOverThreeNodesSurvivesAKilledNode() throws Exception {
        try {
            for (int i = 0; i < NODES; i++) {
                devices.add(TestNodes.newDevicePath());
                start(i);
            }
            for (NodeClient c : clients) {
                awaitUp(c, NODES);
                awaitShards(c);
            }
            String[] volumes = new String[NODES];
            for (int i = 0; i < NODES; i++) {
                volumes[i] = ((Reply.Members) get(clients[i].send(new Request.Members()))).volume();
            }

            // put through A, get through B and C
            byte[] data = pattern(256 << 10, 7);
            FileId shared = get(clients[0].create("shared", null, 0644, true)).file();
            assertEquals((long) data.length, get(clients[0].write(shared, 0, data, 0)));
            get(clients[0].fsync(shared));
            for (NodeClient c : clients) {
                assertEquals(shared, get(c.lookup("shared")).file());
                assertArrayEquals(data, get(c.read(shared, 0, data.length, 0)));
            }

            // stat through each node agrees on volume and node
            Reply.FileStat first = get(clients[0].stat(shared));
            int owner = Arrays.asList(volumes).indexOf(first.volume());
            assertTrue(owner >= 0, () -> "stat names a volume of the cluster: " + first.volume());
            assertEquals("pekko://dionode@127.0.0.1:" + clusterPorts[owner], first.node());
            for (NodeClient c : clients) {
                Reply.FileStat s = get(c.stat(shared));
                assertEquals(first.volume(), s.volume());
                assertEquals(first.node(), s.node());
            }

            // a name created twice through two nodes: EEXIST once
            get(clients[1].create("twice", null, 0644, true));
            assertErrno(Errno.EEXIST, clients[2].create("twice", null, 0644, true));
            assertEquals(1, get(clients[0].list()).stream().filter(e -> e.name().equals("twice")).count());

            // one file on each volume, through A, fsync'd
            FileId[] onVolume = new FileId[NODES];
            byte[][] contents = new byte[NODES][];
            for (int v = 0; v < NODES; v++) {
                Reply created = get(clients[0].send(new Request.Create("on-" + v, null, 0644, true, false, false, volumes[v])));
                onVolume[v] = ((Reply.InodeInfo) created).file();
                assertEquals(volumes[v], get(clients[0].stat(onVolume[v])).volume());
                contents[v] = pattern(64 << 10, v + 1);
                get(clients[0].write(onVolume[v], 0, contents[v], 0));
                get(clients[0].fsync(onVolume[v]));
            }
            assertEquals(List.of("on-0", "on-1", "on-2", "shared", "twice"),
                    get(clients[1].list()).stream().map(Reply.DirEntry::name).toList());

            clusterClientAndCliGoStraightToTheOwner(volumes, onVolume, contents);

            // fio over NBD on A writing a file that lives on B
            FileId onB = ((Reply.InodeInfo) get(clients[0].send(new Request.Create("fio-on-b", null, 0644, true, false, false,
                    volumes[1])))).file();
            get(clients[0].truncate(onB, 4 << 20));
            fio(nbdPorts[0], "fio-on-b");
            long servedOnB = get(clients[1].stats()).get("remote_served");
            assertTrue(servedOnB > 1000, () -> "B served A's fio requests: remote_served " + servedOnB);

            requestsForAFrozenNodeStayWithinTheEntryBudget(onVolume[2]);

            // kill -9 of C: A's and B's files keep serving, C's answer EHOSTDOWN within the timeout
            children[2].kill();
            clients[2].close();
            for (int round = 0; round < 3; round++) {
                for (int n = 0; n < 2; n++) {
                    for (int v = 0; v < 2; v++) {
                        long t0 = System.nanoTime();
                        assertArrayEquals(contents[v], get(clients[n].read(onVolume[v], 0, contents[v].length, 0)));
                        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                        assertTrue(ms < TIMEOUT_MS, "a live node's file answered in " + ms + " ms");
                    }
                    long t0 = System.nanoTime();
                    assertErrno(Errno.EHOSTDOWN, clients[n].read(onVolume[2], 0, 4096, 0));
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    assertTrue(ms <= TIMEOUT_MS + 1000, "EHOSTDOWN after " + ms + " ms");
                }
                Thread.sleep(1500);
            }

            // C restarts on its device: its files read back every fsync'd byte, through A and through C
            start(2);
            awaitUp(clients[0], NODES);
            assertArrayEquals(contents[2], awaitRead(clients[0], onVolume[2], contents[2].length));
            assertArrayEquals(contents[2], get(clients[2].read(onVolume[2], 0, contents[2].length, 0)));
        } finally {
            for (NodeClient c : clients) {
                if (c != null) {
                    c.close();
                }
            }
            for (ChildJvm child : children) {
                if (child != null) {
                    child.close();
                }
            }
            for (Path device : devices) {
                Files.deleteIfExists(device);
            }
        }
    }

    /**
     * A client given all three nodes sends each file's requests to its owner: the bytes come back
     * and no member forwards anything. The CLI with {@code --target a,b,c} does the same, and
     * {@code put --volume} places a file where it says, which {@code stat --json} shows.
     */
    private void clusterClientAndCliGoStraightToTheOwner(String[] volumes, FileId[] onVolume, byte[][] contents)
            throws Exception {
        List<HostPort> targets = new ArrayList<>();
        for (int port : nativePorts) {
            targets.add(new HostPort("127.0.0.1", port));
        }
        long forwardedBefore = forwarded();
        try (ClusterClient cluster = ClusterClient.connect(targets, ClientOptions.defaults())) {
            for (int v = 0; v < NODES; v++) {
                assertEquals("127.0.0.1:" + nativePorts[v], cluster.route(onVolume[v]).endpoint());
                for (int round = 0; round < 20; round++) {
                    assertArrayEquals(contents[v], get(cluster.read(onVolume[v], 0, contents[v].length, 0)));
                }
            }
        }
        assertEquals(forwardedBefore, forwarded(), "requests of a client that knows every member were forwarded");

        String all = String.join(",", targets.stream().map(HostPort::toString).toList());
        byte[] data = pattern(100_000, 9);
        CliRunner.Result put = CliRunner.run(data, "put", "cli-on-c", "--volume", volumes[2], "--target", all);
        assertEquals(0, put.code(), put.stderr());
        CliRunner.Result stat = CliRunner.run("stat", "cli-on-c", "--json", "--target", targets.get(0).toString());
        assertEquals(0, stat.code(), stat.stderr());
        Map<String, Object> json = TestJson.object(new String(stat.stdout(), StandardCharsets.UTF_8));
        assertEquals(volumes[2], json.get("volume"));
        assertEquals("pekko://dionode@127.0.0.1:" + clusterPorts[2], json.get("node"));
        CliRunner.Result back = CliRunner.run("get", "cli-on-c", "--target", all);
        assertArrayEquals(data, back.stdout(), back.stderr());
        CliRunner.Result wrong = CliRunner.run(data, "put", "cli-nowhere", "--volume", "00000000-0000-4000-8000-000000000001",
                "--target", all);
        assertEquals(1, wrong.code());
        assertTrue(wrong.stderr().contains("EINVAL") && wrong.stderr().contains("no member of the cluster mounts volume"),
                wrong.stderr());
    }

    /**
     * C stopped (SIGSTOP): a client pipelining hundreds of writes for C's file through A gets every
     * one answered EHOSTDOWN in bounded time, while A never has more of them out to C than its
     * per-connection budget; none of them lands (C's bytes are checked after its restart).
     */
    private void requestsForAFrozenNodeStayWithinTheEntryBudget(FileId onC) throws Exception {
        signal("STOP", children[2].pid());
        long t0 = System.nanoTime();
        try (NodeClient burst = NodeClient.connect("127.0.0.1", nativePorts[0], ClientOptions.defaults().withMaxInFlight(512))) {
            byte[] block = pattern(4096, 3);
            List<CompletionStage<Long>> all = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                all.add(burst.write(onC, (long) i * 4096, block, 0));
            }
            for (CompletionStage<Long> w : all) {
                assertErrno(Errno.EHOSTDOWN, w);
            }
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 30_000, "400 requests for a frozen node answered in " + ms + " ms");
        Map<String, Long> stats = get(clients[0].stats());
        assertTrue(stats.get("remote_in_flight_peak") <= PARALLELISM, () -> "A had more out to other members than its budget: "
                + stats.get("remote_in_flight_peak"));
        assertEquals(0L, stats.get("remote_in_flight"));
    }

    private static void signal(String name, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + name + " " + pid);
    }

    /** Requests the members have sent on to another member, summed. */
    private long forwarded() throws Exception {
        long sum = 0;
        for (NodeClient c : clients) {
            sum += get(c.stats()).get("remote_requests");
        }
        return sum;
    }

    private void start(int i) throws Exception {
        Path device = devices.get(i);
        Path log = device.resolveSibling(device.getFileName() + "." + System.nanoTime() + ".log");
        children[i] = ChildJvm.start(Main.class, log, "serve", "--device", device.toString(), "--size", "64M", "--port", "0",
                "--nbd", "127.0.0.1:0", "--cluster-bind", "127.0.0.1:" + clusterPorts[i], "--seed-nodes", seed,
                "--remote-timeout", TIMEOUT_MS + "ms", "--parallelism", Integer.toString(PARALLELISM));
        String listening = children[i].await("listening on 127.0.0.1:", 30_000);
        assertNotNull(listening, () -> "node did not start: " + read(log));
        String nbd = children[i].await("nbd listening on 127.0.0.1:", 10_000);
        assertNotNull(nbd, () -> "no NBD listener: " + read(log));
        nativePorts[i] = port(listening);
        clients[i] = NodeClient.connect("127.0.0.1", nativePorts[i]);
        nbdPorts[i] = port(nbd);
    }

    private static int port(String line) {
        return Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).trim());
    }

    /** fio's nbd engine: 4 KiB random writes over 4 MiB at iodepth 8, every block verified after. */
    private static void fio(int port, String export) throws Exception {
        Path dir = Files.createTempDirectory(Path.of("target"), "fio");
        Process p = new ProcessBuilder("fio", "--name=remote", "--ioengine=nbd", "--uri=nbd://127.0.0.1:" + port + "/" + export,
                "--rw=randwrite", "--bs=4k", "--size=4M", "--iodepth=8", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
                "--verify_state_save=0").directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "fio finished");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("err= 0"), out);
    }

    private static void awaitUp(NodeClient c, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        List<Reply.Member> last;
        do {
            last = get(c.members());
            if (last.stream().filter(m -> m.status().equals("up") && m.reachable()).count() == n
                    && last.stream().allMatch(m -> m.status().equals("up"))) {
                return;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        fail(n + " members not up within 40 s: " + last);
    }

    /**
     * Until sharding has placed every volume's shard (its coordinator starts once the cluster has
     * formed), a lookup through {@code c} cannot ask every volume and answers EHOSTDOWN; then ENOENT.
     */
    private static void awaitShards(NodeClient c) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (true) {
            try {
                Object found = get(c.lookup("no-such-name"));
                fail("a name nobody created was found: " + found);
            } catch (ExecutionException e) {
                Errno errno = ((NodeException) e.getCause()).errno();
                if (errno == Errno.ENOENT) {
                    return;
                }
                assertEquals(Errno.EHOSTDOWN, errno, e.getCause().getMessage());
                assertTrue(System.nanoTime() < deadline, "shards not placed within 40 s: " + e.getCause().getMessage());
            }
        }
    }

    /** A read of a restarted node's file, retried while the cluster still answers EHOSTDOWN (bounded). */
    private static byte[] awaitRead(NodeClient c, FileId f, int length) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return get(c.read(f, 0, length, 0));
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NodeException ne) || ne.errno() != Errno.EHOSTDOWN || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(300);
            }
        }
    }

    private static void assertErrno(Errno expected, CompletionStage<?> stage) throws Exception {
        try {
            Object r = get(stage);
            fail("expected " + expected + ", got " + r);
        } catch (ExecutionException | CompletionException e) {
            assertTrue(e.getCause() instanceof NodeException, e::toString);
            assertEquals(expected, ((NodeException) e.getCause()).errno(), e.getCause().getMessage());
            assertNotEquals("", e.getCause().getMessage());
        }
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed * 17 + (i >> 12));
        }
        return b;
    }

    private static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private static int[] freePorts() {
        try {
            return TestNodes.freePorts(NODES);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
