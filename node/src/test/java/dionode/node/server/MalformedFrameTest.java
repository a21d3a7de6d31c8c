package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.HostileBodies;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.Wire;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad frames get EBADMSG (when the id is readable) and close only their own connection; bodies
 * crafted to make the decoder allocate or run what it must not cost the node no large allocation.
 * (Bodies that crashed the old node's JVM outright go to a node in a JVM of its own:
 * dionode.cli.ServeHostileInputTest.)
 */
class MalformedFrameTest {
    private static Path device;
    private static NodeServer node;
    private static NodeClient bystander;
    private static FileId ino;
    private final KryoCodec codec = new KryoCodec();

    @BeforeAll
    static void start() throws Exception {
        device = TestNodes.newDevicePath();
        node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
        bystander = NodeClient.connect("127.0.0.1", node.address().getPort());
        ino = bystander.create("f", null, 0644, true).toCompletableFuture().join().file();
    }

    @AfterAll
    static void stop() throws Exception {
        bystander.close();
        node.close();
        Files.deleteIfExists(device);
    }

    private Socket connect() throws Exception {
        Socket s = new Socket("127.0.0.1", node.address().getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    /** The one reply on the socket, then EOF. */
    private Reply.Error replyThenClosed(Socket s, long expectedId) throws Exception {
        InputStream in = s.getInputStream();
        FrameReader reader = new FrameReader(in, Wire.DEFAULT_MAX_PAYLOAD);
        assertTrue(reader.next(), "a reply before the close");
        assertEquals(expectedId, reader.requestId());
        Object reply = codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength());
        assertTrue(!reader.next(), "connection closed after the EBADMSG reply");
        return (Reply.Error) reply;
    }

    private void bystanderStillServed() {
        byte[] data = new byte[4096];
        data[7] = 7;
        bystander.write(ino, 0, data, 0).toCompletableFuture().join();
        assertArrayEquals(data, bystander.read(ino, 0, 4096, 0).toCompletableFuture().join());
    }

    @Test
    void oversizedFrameIsRefusedByItsIdBeforeBuffering() throws Exception {
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(0x7fff_fff0); // ~2 GiB declared; nothing of it is sent
            out.writeLong(4242);
            out.flush();
            Reply.Error e = replyThenClosed(s, 4242);
            assertEquals(Errno.EBADMSG, e.errno());
            assertTrue(e.message().contains("exceeds"), e.message());
        }
        bystanderStillServed();
    }

    @Test
    void requestsBehindAnUndecodableBodyAreNotRun() throws Exception {
        try (Socket s = connect()) {
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(frames);
            byte[] body = {(byte) 0xca, 0x01, 0x55, 0x66};
            out.writeInt(Wire.ID_BYTES + body.length);
            out.writeLong(78);
            out.write(body);
            out.write(codec.encodeFrame(79, new Request.Create("behind-a-bad-frame", null, 0644, true)));
            s.getOutputStream().write(frames.toByteArray()); // one segment: the node sees both at once
            assertEquals(Errno.EBADMSG, replyThenClosed(s, 78).errno());
        }
        NodeException e = assertThrows(NodeException.class, () -> {
            try {
                bystander.lookup("behind-a-bad-frame").toCompletableFuture().join();
            } catch (java.util.concurrent.CompletionException c) {
                throw c.getCause();
            }
        });
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void undecodableBodyGetsEbadmsg() throws Exception {
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            byte[] body = {(byte) 0xca, 0x01, 0x55, 0x66}; // an unregistered class id
            out.writeInt(Wire.ID_BYTES + body.length);
            out.writeLong(77);
            out.write(body);
            out.flush();
            assertEquals(Errno.EBADMSG, replyThenClosed(s, 77).errno());
        }
        bystanderStillServed();
    }

    @Test
    void aReplyRecordSentAsARequestIsRefused() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(codec.encodeFrame(5, new Reply.Done()));
            assertEquals(Errno.EBADMSG, replyThenClosed(s, 5).errno());
        }
        bystanderStillServed();
    }

    @Test
    void frameTooShortForAnIdClosesWithoutReply() throws Exception {
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(3);
            out.write(new byte[] {1, 2, 3});
            out.flush();
            assertEquals(-1, TestNodes.readOrReset(s));
        }
        bystanderStillServed();
    }

    @Test
    void goodFramesBeforeABadOneAreAnswered() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(codec.encodeFrame(1, new Request.Stat(ino)));
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(2);
            out.flush();
            FrameReader reader = new FrameReader(s.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
            assertTrue(reader.next());
            assertEquals(1, reader.requestId());
            assertTrue(codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength()) instanceof Reply.FileStat);
            assertTrue(!reader.next());
        }
        bystanderStillServed();
    }

    /** One crafted body on a connection of its own: the EBADMSG answering it, then the close. */
    private Reply.Error refused(long id, byte[] body) throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(HostileBodies.frame(id, body));
            Reply.Error e = replyThenClosed(s, id);
            assertEquals(Errno.EBADMSG, e.errno(), e::toString);
            return e;
        }
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
