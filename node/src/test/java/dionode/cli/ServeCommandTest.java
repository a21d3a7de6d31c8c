package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dionode.node.crash.ChildJvm;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code dionode serve} as a user runs it: its own JVM, the lines it prints, SIGTERM. */
class ServeCommandTest {
    static final long NBD_MAGIC = 0x4e42444d41474943L; // "NBDMAGIC"
    static final long IHAVEOPT = 0x49484156454f5054L;

    @Test
    void serveWithNbdPrintsBothAddressesServesBothAndStopsCleanlyOnSigterm() throws Exception {
        Path device = TestNodes.newDevicePath();
        Path log = device.resolveSibling(device.getFileName() + ".log");
        try (ChildJvm child = ChildJvm.start(Main.class, log, "serve", "--device", device.toString(), "--size", "64M",
                "--port", "0", "--nbd", "127.0.0.1:0")) {
            String listening = child.await("listening on 127.0.0.1:", 60_000);
            assertNotNull(listening, () -> "no 'listening on' line; stderr: " + read(log));
            String nbd = child.await("nbd listening on 127.0.0.1:", 10_000);
            assertNotNull(nbd, () -> "no 'nbd listening on' line; stderr: " + read(log));
            try (NodeClient c = NodeClient.connect("127.0.0.1", port(listening))) {
                FileId ino = c.create("disk", null, 0644, true).toCompletableFuture().get(10, TimeUnit.SECONDS).file();
                c.write(ino, 0, new byte[4096], 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            try (Socket s = new Socket("127.0.0.1", port(nbd))) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                assertEquals(NBD_MAGIC, in.readLong());
                assertEquals(IHAVEOPT, in.readLong());
            }
            assertEquals(0, child.terminate(), () -> "exit status after SIGTERM; stderr: " + read(log));
        }
        assertEquals(0, new CommandLine(new FsckCommand()).execute("--device", device.toString()));
        try (NodeServer node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            FileId ino = c.lookup("disk").toCompletableFuture().get(10, TimeUnit.SECONDS).file();
            assertEquals(4096, c.stat(ino).toCompletableFuture().get(10, TimeUnit.SECONDS).size());
        }
        Files.deleteIfExists(device);
    }

    @Test
    void servingOnAPortInUseSaysSoInOneLineAndExits1() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int p = taken.getLocalPort();
            String expected = "serve: cannot listen on 127.0.0.1:" + p + ": address already in use";
            assertEquals(List.of(expected), failedServe("--port", Integer.toString(p)));
            assertEquals(List.of(expected), failedServe("--port", "0", "--nbd", "127.0.0.1:" + p));
        }
    }

    /** Runs {@code serve} that must fail: exit status 1, and what it printed on stderr. */
    private static List<String> failedServe(String... args) throws Exception {
        Path device = TestNodes.newDevicePath();
        Path log = device.resolveSibling(device.getFileName() + ".log");
        List<String> all = new java.util.ArrayList<>(List.of("serve", "--device", device.toString(), "--size", "64M"));
        all.addAll(List.of(args));
        try (ChildJvm child = ChildJvm.start(Main.class, log, all.toArray(new String[0]))) {
            assertEquals(null, child.await("listening on", 60_000), "serve did not fail");
            assertEquals(1, child.terminate(), () -> "exit status; stderr: " + read(log));
            // the start may warn (a small test heap cannot hold the wire's worst case); the failure is one line of its own
            return Files.readAllLines(log).stream().filter(l -> !l.contains(" WARN ")).toList();
        } finally {
            Files.deleteIfExists(device);
            Files.deleteIfExists(log);
        }
    }

    private static int port(String line) {
        return Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).trim());
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
