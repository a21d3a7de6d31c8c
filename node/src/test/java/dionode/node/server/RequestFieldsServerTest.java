package dionode.node.server;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.Wire;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Requests whose fields cannot be acted on (the codec decodes nulls and negative numbers like any
 * other value) answer EINVAL naming the field, change nothing, keep the connection, and leave no
 * request counted in flight, so a clean shutdown does not wait for them.
 */
class RequestFieldsServerTest {
    private Path device;
    private NodeServer node;
    private NodeClient client;
    private FileId file;
    private final byte[] data = new byte[8192];
    private final KryoCodec codec = new KryoCodec();

    @BeforeEach
    void start() throws Exception {
        device = TestNodes.newDevicePath();
        node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
        client = NodeClient.connect("127.0.0.1", node.address().getPort());
        file = join(client.create("f", null, 0644, true)).file();
        new Random(5).nextBytes(data);
        join(client.write(file, 0, data, 0));
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        node.close();
        Files.deleteIfExists(device);
    }

    private void awaitNothingInFlight() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (node.dispatcher().inFlight() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, node.dispatcher().inFlight(), "requests left counted in flight");
    }

    @Test
    void aHandEncodedWriteWithoutDataIsEinvalAndTheConnectionKeepsServing() throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.address().getPort())) {
            s.setSoTimeout(10_000);
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            frames.write(codec.encodeFrame(41, new Request.Write(file, 0, null, 0)));
            frames.write(codec.encodeFrame(42, new Request.Stat(file)));
            s.getOutputStream().write(frames.toByteArray());
            FrameReader reader = new FrameReader(s.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
            Map<Long, Object> replies = new HashMap<>();
            for (int i = 0; i < 2; i++) {
                assertTrue(reader.next(), "a reply to each frame");
                replies.put(reader.requestId(), codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength()));
            }
            assertEquals(new Reply.Error(Errno.EINVAL, "write data is missing"), replies.get(41L));
            assertTrue(replies.get(42L) instanceof Reply.FileStat st && st.size() == data.length, replies.toString());
        }
        assertArrayEquals(data, join(client.read(file, 0, data.length, 0)));
        awaitNothingInFlight();
        long t0 = System.nanoTime();
        node.close();
        long took = Duration.ofNanos(System.nanoTime() - t0).toMillis();
        assertTrue(took < 10_000, "shutdown waited " + took + " ms for requests that were never answered");
    }

    @Test
    void everyMalformedFieldOfEveryRequestIsEinvalNamingItAndChangesNothing() throws Exception {
        Reply.FileStat before = join(client.stat(file));
        List<Reply.FiemapExtent> map = client.fiemapAll(file);
        Map<Request, String> bad = new java.util.LinkedHashMap<>();
        bad.put(new Request.Create(null, null, 0644, true), "create: the file name is missing");
        bad.put(new Request.Create("g", null, 0100644, true), "create: mode 0100644 has bits outside 07777");
        bad.put(new Request.Lookup(null), "lookup: the file name is missing");
        bad.put(new Request.Unlink(null), "unlink: the file name is missing");
        bad.put(new Request.Write(null, 0, new byte[512], 0), "write: the file handle is missing");
        bad.put(new Request.Write(file, -4096, new byte[4096], 0), "write offset must not be negative (got -4096)");
        bad.put(new Request.Write(file, 0, null, 0), "write data is missing");
        bad.put(new Request.Write(file, 0, new byte[4096], 1 << 8), "write: unknown flag bits 0x100");
        bad.put(new Request.Read(file, 0, -1, 0), "read length must not be negative (got -1)");
        bad.put(new Request.Read(file, -512, 512, 0), "read offset must not be negative (got -512)");
        bad.put(new Request.Fsync(null), "fsync: the file handle is missing");
        bad.put(new Request.Fallocate(file, 0, -4096, false), "fallocate length must not be negative (got -4096)");
        bad.put(new Request.PunchHole(file, -4096, 4096), "punch offset must not be negative (got -4096)");
        bad.put(new Request.ZeroRange(file, 0, -1, true), "zero-range length must not be negative (got -1)");
        bad.put(new Request.Truncate(file, -1), "truncate size must not be negative (got -1)");
        bad.put(new Request.Stat(null), "stat: the file handle is missing");
        bad.put(new Request.Fiemap(file, -1, 0), "fiemap offset must not be negative (got -1)");
        bad.put(new Request.Chmod(file, 0170644), "chmod: mode 0170644 has bits outside 07777");
        for (Map.Entry<Request, String> e : bad.entrySet()) {
            Reply r = join(client.send(e.getKey()));
            assertTrue(r instanceof Reply.Error err && err.errno() == Errno.EINVAL && err.message().startsWith(e.getValue()),
                    e.getKey() + " answered " + r);
        }
        assertTrue(client.isOpen());
        assertEquals(List.of("f"), join(client.list()).stream().map(Reply.DirEntry::name).toList());
        assertEquals(before, join(client.stat(file)));
        assertEquals(map, client.fiemapAll(file));
        assertArrayEquals(data, join(client.read(file, 0, data.length, 0)));
        awaitNothingInFlight();
    }
}
