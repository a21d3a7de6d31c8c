package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.Errno;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.HostileBodies;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.Wire;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bodies crafted to make the decoder allocate or run what it must not, sent through the real TCP
 * server: each is answered EBADMSG, closes its own connection only, and costs the node no large
 * allocation. (Bodies that crashed the old node's JVM outright are sent to a node in a JVM of its
 * own: dionode.cli.ServeHostileInputTest.)
 */
class HostileBodyTest {
    private static Path device;
    private static NodeServer node;
    private static NodeClient bystander;
    private static long ino;
    private final KryoCodec codec = new KryoCodec();

    @BeforeAll
    static void start() throws Exception {
        device = TestNodes.newDevicePath();
        node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
        bystander = NodeClient.connect("127.0.0.1", node.address().getPort());
        ino = bystander.create("f", null, 0644, true).toCompletableFuture().join().ino();
    }

    @AfterAll
    static void stop() throws Exception {
        bystander.close();
        node.close();
        Files.deleteIfExists(device);
    }

    /** Sends one frame on a connection of its own: the EBADMSG answering it, then the close. */
    private Reply.Error refused(long id, byte[] body) throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(HostileBodies.frame(id, body));
            FrameReader reader = new FrameReader(s.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
            assertTrue(reader.next(), "a reply before the close");
            assertEquals(id, reader.requestId());
            Object reply = codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength());
            assertTrue(reply instanceof Reply.Error, () -> "refused, not answered: " + reply);
            assertEquals(Errno.EBADMSG, ((Reply.Error) reply).errno(), reply::toString);
            assertTrue(!reader.next(), "connection closed after the EBADMSG reply");
            return (Reply.Error) reply;
        }
    }

    private void bystanderStillServed() {
        byte[] data = new byte[4096];
        data[9] = 9;
        bystander.write(ino, 0, data, 0).toCompletableFuture().join();
        assertArrayEquals(data, bystander.read(ino, 0, 4096, 0).toCompletableFuture().join());
    }

    @Test
    void aRequestWhoseClassIsNamedOnTheWireIsRefusedNotRun() throws Exception {
        Reply.Error e = refused(11, HostileBodies.statByName(ino));
        assertTrue(e.message().contains("class named on the wire"), e.message());
        bystanderStillServed();
    }

    @Test
    void aStringDeclaringFarMoreCharactersThanItsFrameCostsNoAllocation() throws Exception {
        AllocationMeter meter = new AllocationMeter();
        Reply.Error e = refused(12, HostileBodies.lookupDeclaring(1L << 26)); // 30 bytes asking for a 128 MiB char[]
        long allocated = meter.allocated();
        assertTrue(allocated < 16 << 20, allocated + " bytes allocated to refuse a 30-byte Lookup");
        assertTrue(e.message().contains("does not fit"), e.message());
        bystanderStillServed();
    }

    @Test
    void aByteArrayDeclaringFarMoreBytesThanItsFrameCostsNoAllocation() throws Exception {
        AllocationMeter meter = new AllocationMeter();
        Reply.Error e = refused(13, HostileBodies.writeDeclaring(1 << 26)); // asking for a 64 MiB byte[]
        long allocated = meter.allocated();
        assertTrue(allocated < 16 << 20, allocated + " bytes allocated to refuse a 12-byte Write");
        assertTrue(e.message().contains("does not fit"), e.message());
        bystanderStillServed();
    }
}
