package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.ChildJvm;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.Errno;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.HostileBodies;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.Wire;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bodies that made the node's JVM exit (a stack overflow in the decoder, a 2 GiB allocation:
 * Pekko ends the JVM on such errors), sent to {@code dionode serve} in a JVM of its own with a
 * 384 MiB heap: each is answered EBADMSG on its own connection, and the node lives on and serves
 * another.
 */
class ServeHostileInputTest {
    private static Path device;
    private static Path log;
    private static ChildJvm child;
    private static int port;
    private final KryoCodec codec = new KryoCodec();

    @BeforeAll
    static void serve() throws Exception {
        device = TestNodes.newDevicePath();
        log = device.resolveSibling(device.getFileName() + ".log");
        child = ChildJvm.start(Main.class, log, "serve", "--device", device.toString(), "--size", "64M", "--port", "0");
        String listening = child.await("listening on 127.0.0.1:", 60_000);
        assertNotNull(listening, () -> "no 'listening on' line; stderr: " + read(log));
        port = Integer.parseInt(listening.substring(listening.lastIndexOf(':') + 1).trim());
    }

    @AfterAll
    static void stop() throws Exception {
        if (child != null) {
            assertEquals(0, child.terminate(), () -> "exit status after SIGTERM; stderr: " + read(log));
        }
        Files.deleteIfExists(device);
    }

    private void refusedAndNodeLives(long id, byte[] body) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(HostileBodies.frame(id, body));
            FrameReader reader = new FrameReader(s.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
            assertTrue(reader.next(), () -> "no reply to a body of " + body.length + " bytes; node alive: " + child.isAlive()
                    + "; stderr: " + read(log));
            assertEquals(id, reader.requestId());
            Reply.Error e = (Reply.Error) codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength());
            assertEquals(Errno.EBADMSG, e.errno(), e::toString);
            assertTrue(!reader.next(), "connection closed after the EBADMSG reply");
        }
        assertTrue(child.isAlive(), () -> "the node exited; stderr: " + read(log));
        try (NodeClient c = NodeClient.connect("127.0.0.1", port)) {
            FileId ino = c.create("after-" + id, null, 0644, false).toCompletableFuture().get(10, TimeUnit.SECONDS).file();
            byte[] data = new byte[4096];
            data[1] = (byte) id;
            c.write(ino, 0, data, 0).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertArrayEquals(data, c.read(ino, 0, 4096, 0).toCompletableFuture().get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void listsNestedThousandsOfLevelsDeepAreRefused() throws Exception {
        refusedAndNodeLives(1, HostileBodies.nestedLists(HostileBodies.ARRAY_LIST, 3_000));
        refusedAndNodeLives(2, HostileBodies.nestedLists(HostileBodies.ARRAY_LIST, 100_000));
        refusedAndNodeLives(3, HostileBodies.nestedLists(HostileBodies.ARRAY_LIST, 2_000_000));
        refusedAndNodeLives(4, HostileBodies.nestedLists(HostileBodies.LIST_N, 3_000));
    }

    @Test
    void aStringDeclaringAGigaCharacterInThirtyBytesIsRefused() throws Exception {
        refusedAndNodeLives(5, HostileBodies.lookupDeclaring(1L << 30));
        refusedAndNodeLives(6, HostileBodies.writeDeclaring(Integer.MAX_VALUE - 1));
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
