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
