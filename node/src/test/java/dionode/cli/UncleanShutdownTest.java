package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10 item 13: the superblock's clean/mounted state. A {@code serve} killed with SIGKILL
 * leaves the device marked mounted; fsck reports it, and the next {@code serve} logs one WARN line
 * naming the device and its last mount time, counts it, and serves every durable byte. A clean
 * stop leaves no such line.
 */
@Timeout(300)
class UncleanShutdownTest {

    @Test
    void aKilledServeIsReportedAtTheNextMountAndItsDataIsIntact() throws Exception {
        Path device = TestNodes.newDevicePath();
        byte[] data = new byte[256 << 10];
        new Random(12).nextBytes(data);
        FileId ino;
        Instant started = Instant.now();
        try (ChildJvm first = serve(device, "first")) {
            try (NodeClient c = NodeClient.connect("127.0.0.1", port(first, device, "first"))) {
                ino = c.create("kept", null, 0644, true).toCompletableFuture().get(10, TimeUnit.SECONDS).file();
                c.write(ino, 0, data, IoFlags.DURABLE).toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            first.kill();
        }
        assertFalse(log(device, "first").contains("not cleanly unmounted"), "a freshly made device was clean");

        CliRunner.Result crashed = CliRunner.run("fsck", "--device", device.toString(), "--json");
        assertEquals(0, crashed.code(), crashed::toString);
        assertTrue(crashed.out().contains("\"state\":\"mounted\""), crashed.out());

        try (ChildJvm second = serve(device, "second")) {
            try (NodeClient c = NodeClient.connect("127.0.0.1", port(second, device, "second"))) {
                assertArrayEquals(data, c.read(ino, 0, data.length, 0).toCompletableFuture().get(10, TimeUnit.SECONDS));
                assertEquals(1L, c.stats().toCompletableFuture().get(10, TimeUnit.SECONDS).get("unclean_mounts"));
            }
            Matcher m = Pattern.compile(" WARN .*device " + Pattern.quote(device.toString())
                    + " was not cleanly unmounted \\(last mounted at (\\S+)\\); replaying the journal")
                    .matcher(log(device, "second"));
            assertTrue(m.find(), () -> "the WARN line; stderr: " + log(device, "second"));
            Instant last = Instant.parse(m.group(1));
            assertTrue(!last.isBefore(started.minusSeconds(1)) && last.isBefore(Instant.now()),
                    "the first serve's mount time: " + last + ", test started " + started);
            assertEquals(0, second.terminate(), () -> "exit status after SIGTERM; stderr: " + log(device, "second"));
        }

        try (ChildJvm third = serve(device, "third")) {
            port(third, device, "third");
            assertEquals(0, third.terminate());
        }
        assertFalse(log(device, "third").contains("not cleanly unmounted"), "after a clean stop: " + log(device, "third"));
        CliRunner.Result clean = CliRunner.run("fsck", "--device", device.toString(), "--json");
        assertEquals(0, clean.code(), clean::toString);
        assertTrue(clean.out().contains("\"state\":\"clean\"") && clean.out().contains("\"mounts\":3,\"unclean_mounts\":1"),
                clean.out());
        Files.deleteIfExists(device);
        for (String name : new String[] {"first", "second", "third"}) {
            Files.deleteIfExists(logPath(device, name));
        }
    }

    private static ChildJvm serve(Path device, String name) throws IOException {
        Path log = logPath(device, name);
        Files.deleteIfExists(log);
        return ChildJvm.start(Main.class, log, "serve", "--device", device.toString(), "--size", "64M", "--port", "0");
    }

    private static int port(ChildJvm child, Path device, String name) throws InterruptedException {
        String listening = child.await("listening on 127.0.0.1:", 60_000);
        assertNotNull(listening, () -> "no 'listening on' line; stderr: " + log(device, name));
        return Integer.parseInt(listening.substring(listening.lastIndexOf(':') + 1).trim());
    }

    private static Path logPath(Path device, String name) {
        return device.resolveSibling(device.getFileName() + "." + name + ".log");
    }

    private static String log(Path device, String name) {
        try {
            return Files.readString(logPath(device, name));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
