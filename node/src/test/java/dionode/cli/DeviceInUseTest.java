package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.ChildJvm;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10 item 13: while one {@code serve} holds a device, a second {@code serve}, {@code mkfs}
 * or {@code fsck}, each in its own JVM as a user runs it, exits 1 at once with {@code device PATH
 * is in use by another process} (PATH as given), and the first node goes on serving what it had.
 * "At once" is judged against the same command on a missing device, which fails at the same
 * open: the JVM's start-up is not the command's.
 */
@Timeout(300)
class DeviceInUseTest {
    private static final long MAX_EXTRA_MILLIS = 1000;

    /** One run of the CLI in a fresh JVM. */
    record Run(int exit, String stderr, List<String> stdout, long millis) {
    }

    static Run cli(Path log, String... args) throws IOException, InterruptedException {
        Files.deleteIfExists(log);
        long start = System.nanoTime();
        try (ChildJvm child = ChildJvm.start(Main.class, log, args)) {
            int exit = child.exitStatus(60_000);
            long millis = (System.nanoTime() - start) / 1_000_000;
            return new Run(exit, Files.exists(log) ? Files.readString(log) : "", child.lines(), millis);
        }
    }

    @Test
    void aSecondServeMkfsOrFsckIsRefusedAtOnceWhileAServeHoldsTheDevice() throws Exception {
        Path absolute = TestNodes.newDevicePath().toAbsolutePath();
        Path device = Path.of("").toAbsolutePath().relativize(absolute);
        Path missing = device.resolveSibling("missing-" + device.getFileName());
        Path log = absolute.resolveSibling(absolute.getFileName() + ".serve.log");
        Path cmdLog = absolute.resolveSibling(absolute.getFileName() + ".cmd.log");
        byte[] data = new byte[64 << 10];
        new Random(10).nextBytes(data);
        try (ChildJvm serve = ChildJvm.start(Main.class, log, "serve", "--device", device.toString(), "--size", "64M",
                "--port", "0")) {
            String listening = serve.await("listening on 127.0.0.1:", 60_000);
            assertNotNull(listening, () -> "no 'listening on' line; stderr: " + read(log));
            int port = Integer.parseInt(listening.substring(listening.lastIndexOf(':') + 1).trim());
            FileId ino;
            try (NodeClient c = NodeClient.connect("127.0.0.1", port)) {
                ino = c.create("held", null, 0644, true).toCompletableFuture().get(10, TimeUnit.SECONDS).file();
                c.write(ino, 0, data, IoFlags.DURABLE).toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            String[][] commands = {
                {"serve", "--device", "%s", "--port", "0"},
                {"mkfs", "--device", "%s"},
                {"fsck", "--device", "%s", "--json"},
            };
            for (String[] command : commands) {
                String name = command[0];
                Run refused = null;
                Run reference = null;
                // two tries: a JVM start-up slowed by the machine's load is not the command's delay
                for (int attempt = 0; attempt < 2; attempt++) {
                    refused = cli(cmdLog, with(command, device));
                    reference = cli(cmdLog, with(command, missing));
                    if (refused.millis() - reference.millis() < MAX_EXTRA_MILLIS) {
                        break;
                    }
                }
                Run r = refused;
                System.out.printf("%s refused in %d ms (on a missing device: %d ms)%n", name, refused.millis(),
                        reference.millis());
                assertEquals(1, r.exit(), () -> name + ": exit status; " + r);
                assertTrue(r.stderr().contains(name + ": device " + device + " is in use by another process"),
                        () -> name + ": the one-line message naming the path as given; " + r);
                assertEquals(List.of(), r.stdout(), name + " printed nothing else");
                assertTrue(refused.millis() - reference.millis() < MAX_EXTRA_MILLIS, name + " took " + refused.millis()
                        + " ms, the same command on a missing device " + reference.millis() + " ms");
                assertTrue(serve.isAlive(), "the first node is still running after " + name);
            }
            // the first node still serves, with everything it had: mkfs wrote nothing
            try (NodeClient c = NodeClient.connect("127.0.0.1", port)) {
                assertEquals(ino, c.lookup("held").toCompletableFuture().get(10, TimeUnit.SECONDS).file());
                assertArrayEquals(data, c.read(ino, 0, data.length, 0).toCompletableFuture().get(10, TimeUnit.SECONDS));
                FileId more = c.create("after", null, 0644, true).toCompletableFuture().get(10, TimeUnit.SECONDS).file();
                c.write(more, 0, data, IoFlags.DURABLE).toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            assertEquals(0, serve.terminate(), () -> "exit status after SIGTERM; stderr: " + read(log));
        }
        // once the holder is gone the device is free: fsck runs and finds both files
        Run fsck = cli(cmdLog, "fsck", "--device", device.toString(), "--json");
        assertEquals(0, fsck.exit(), fsck::toString);
        assertTrue(fsck.stdout().get(0).contains("\"clean\":true,\"files\":2,\"state\":\"clean\""), fsck::toString);
        for (Path p : List.of(absolute, log, cmdLog)) {
            Files.deleteIfExists(p);
        }
    }

    private static String[] with(String[] command, Path device) {
        String[] out = command.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = out[i].replace("%s", device.toString());
        }
        return out;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
