package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.JnaNativeIO;
import dionode.node.inode.NodeCounters;
import dionode.protocol.FileId;
import dionode.protocol.Errno;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.Wire;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What a connection may make the node hold, through the real TCP server: a frame begun and not
 * finished is closed after the frame timeout; many such frames stay within the node's wire
 * budget; a client that does not read its replies stops being read, while others are served.
 * Each case runs on each transport and dispatcher ({@link Engines}).
 */
class WireBackpressureTest {
    private final KryoCodec codec = new KryoCodec();
    private final List<AutoCloseable> open = new ArrayList<>();
    private Path device;
    private NodeServer node;

    private NodeServer start(NodeConfig config) throws Exception {
        node = NodeServer.start(config, new JnaNativeIO());
        return node;
    }

    private NodeConfig config(Engines engine) throws Exception {
        device = TestNodes.newDevicePath();
        return TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withEngine(engine.engine());
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    private Socket connect() throws Exception {
        Socket s = new Socket("127.0.0.1", node.address().getPort());
        s.setSoTimeout(10_000);
        open.add(s);
        return s;
    }

    private NodeClient client() throws Exception {
        NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort());
        open.add(c);
        return c;
    }

    @ParameterizedTest
    @EnumSource(Engines.class)
    void aFrameNotFinishedWithinTheFrameTimeoutClosesItsConnectionAndIsCounted(Engines engine) throws Exception {
        start(config(engine).withWire(WireLimits.defaults().withFrameTimeout(Duration.ofMillis(300))));
        Socket halfFrame = connect();
        OutputStream out = halfFrame.getOutputStream();
        out.write(ByteBuffer.allocate(Wire.HEADER_BYTES + 20).putInt(Wire.ID_BYTES + 1000).putLong(21).array());
        Socket halfLength = connect();
        halfLength.getOutputStream().write(new byte[] {0, 0});
        long started = System.nanoTime();

        FrameReader reader = new FrameReader(halfFrame.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
        assertTrue(reader.next(), "an EBADMSG before the close");
        long waitedMs = (System.nanoTime() - started) / 1_000_000;
        assertEquals(21, reader.requestId());
        Reply.Error e = (Reply.Error) codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength());
        assertEquals(Errno.EBADMSG, e.errno());
        assertTrue(e.message().contains("not complete after 300 ms (32 of 1012 bytes received)"), e.message());
        assertTrue(waitedMs >= 250, "closed after " + waitedMs + " ms, before the timeout");
        assertTrue(!reader.next(), "closed after the reply");
        assertEquals(-1, halfLength.getInputStream().read(), "a frame without its id is closed without a reply");

        // a frame that is slow but finishes in time is answered, and its connection stays
        Socket slow = connect();
        byte[] stat = codec.encodeFrame(22, new Request.ListFiles());
        slow.getOutputStream().write(stat, 0, 6);
        Thread.sleep(100);
        slow.getOutputStream().write(stat, 6, stat.length - 6);
        FrameReader slowReader = new FrameReader(slow.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
        assertTrue(slowReader.next());
        assertEquals(22, slowReader.requestId());
        assertEquals(new Reply.FileList(List.of()), codec.decodeBody(slowReader.body(), slowReader.bodyOffset(), slowReader.bodyLength()));
        assertEquals(2, node.counters().get(NodeCounters.FRAME_TIMEOUTS));
    }

    @ParameterizedTest
    @EnumSource(Engines.class)
    void halfFramesOfManyStalledConnectionsStayWithinTheWireBudget(Engines engine) throws Exception {
        int maxPayload = 4 << 20;
        long nodeBytes = 8 << 20;
        int attackers = 24;
        start(config(engine).withMaxPayload(maxPayload)
                .withWire(WireLimits.defaults().withBytes(nodeBytes, WireLimits.minConnectionBytes(maxPayload))));
        NodeClient bystander = client();
        FileId ino = bystander.create("f", null, 0644, true).toCompletableFuture().join().file();

        AllocationMeter meter = new AllocationMeter();
        List<SocketChannel> channels = new ArrayList<>();
        for (int i = 0; i < attackers; i++) {
            SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", node.address().getPort()));
            ch.configureBlocking(false);
            open.add(ch);
            channels.add(ch);
        }
        long sent = pushHalfFrames(channels, maxPayload);
        long allocated = meter.allocated();
        long held = node.transport().budget().heldBytes();

        long slack = attackers * (WireLimits.FREE_BYTES_PER_CONNECTION + WireLimits.READ_BYTES + Wire.HEADER_BYTES);
        assertTrue(held <= nodeBytes + slack, held + " bytes held for stalled frames, budget " + nodeBytes + " + " + slack);
        assertTrue(allocated < 40 << 20, allocated + " bytes allocated while " + attackers + " connections sent " + sent
                + " bytes of frames they never finish");
        byte[] data = new byte[4096];
        data[3] = 3;
        bystander.write(ino, 0, data, 0).toCompletableFuture().join();
        assertArrayEquals(data, bystander.read(ino, 0, 4096, 0).toCompletableFuture().join());

        for (SocketChannel ch : channels) {
            ch.close();
        }
        bystander.close();
        LongSupplier heldNow = () -> node.transport().budget().heldBytes();
        assertEquals(0, TestNodes.settle(heldNow), "every byte goes back when the connections close");
    }

    /**
     * Each channel declares a frame of {@code maxPayload} bytes and sends all of it but the last
     * byte, as far as the node reads it: round-robin until no channel makes progress for half a
     * second. Returns the bytes the kernel accepted.
     */
    private static long pushHalfFrames(List<SocketChannel> channels, int maxPayload) throws Exception {
        long[] left = new long[channels.size()];
        ByteBuffer[] headers = new ByteBuffer[channels.size()];
        for (int i = 0; i < left.length; i++) {
            headers[i] = ByteBuffer.allocate(Wire.HEADER_BYTES).putInt(Wire.ID_BYTES + maxPayload).putLong(100 + i).flip();
            left[i] = maxPayload - 1;
        }
        ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
        long sent = 0;
        long quietSince = System.nanoTime();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() - quietSince < 500_000_000L && System.nanoTime() < deadline) {
            boolean progress = false;
            for (int i = 0; i < left.length; i++) {
                SocketChannel ch = channels.get(i);
                if (headers[i].hasRemaining()) {
                    sent += ch.write(headers[i]);
                    continue;
                }
                if (left[i] == 0) {
                    continue;
                }
                chunk.clear().limit((int) Math.min(chunk.capacity(), left[i]));
                int n = ch.write(chunk);
                left[i] -= n;
                sent += n;
                progress |= n > 0;
            }
            if (progress) {
                quietSince = System.nanoTime();
            } else {
                Thread.sleep(10);
            }
        }
        return sent;
    }

    @ParameterizedTest
    @EnumSource(Engines.class)
    void aClientThatDoesNotReadItsRepliesStopsBeingReadWhileOthersAreServed(Engines engine) throws Exception {
        start(config(engine));
        NodeClient bystander = client();
        FileId big = bystander.create("big", null, 0644, true).toCompletableFuture().join().file();
        byte[] pattern = new byte[Wire.MAX_IO_BYTES];
        for (int i = 0; i < pattern.length; i += 512) {
            pattern[i] = (byte) (i >>> 9);
        }
        bystander.write(big, 0, pattern, 0).toCompletableFuture().join();
        long readsBefore = node.counters().get(NodeCounters.READS);

        int reads = 20;
        Socket greedy = new Socket();
        greedy.setReceiveBufferSize(64 << 10);
        greedy.connect(new InetSocketAddress("127.0.0.1", node.address().getPort()));
        greedy.setSoTimeout(10_000);
        open.add(greedy);
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        for (int i = 0; i < reads; i++) {
            frames.writeBytes(codec.encodeFrame(i, new Request.Read(big, 0, Wire.MAX_IO_BYTES, 0)));
        }
        frames.writeBytes(codec.encodeFrame(reads, new Request.Create("behind-unread-replies", null, 0644, true)));
        greedy.getOutputStream().write(frames.toByteArray());

        long executed = TestNodes.settle(() -> node.counters().get(NodeCounters.READS)) - readsBefore;
        long cap = node.config().wire().connectionBytes();
        assertTrue(executed <= cap / Wire.MAX_IO_BYTES + 1, executed + " reads run for a client that reads no reply, cap " + cap);
        long held = node.transport().budget().heldBytes();
        assertTrue(held <= cap + WireLimits.READ_BYTES, held + " bytes held, cap " + cap);
        NodeException notRun = assertThrows(NodeException.class, () -> join(bystander.lookup("behind-unread-replies")));
        assertEquals(Errno.ENOENT, notRun.errno());
        FileId small = bystander.create("small", null, 0644, true).toCompletableFuture().join().file();
        byte[] data = new byte[4096];
        data[5] = 5;
        bystander.write(small, 0, data, 0).toCompletableFuture().join();
        assertArrayEquals(data, bystander.read(small, 0, 4096, 0).toCompletableFuture().join());

        // once the client reads, every reply comes, and what was behind them runs
        Map<Long, Object> replies = new HashMap<>();
        InputStream in = greedy.getInputStream();
        FrameReader reader = new FrameReader(in, Wire.DEFAULT_MAX_PAYLOAD);
        while (replies.size() < reads + 1 && reader.next()) {
            replies.put(reader.requestId(), codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength()));
        }
        for (long i = 0; i < reads; i++) {
            assertTrue(Arrays.equals(pattern, ((Reply.Data) replies.get(i)).data()), "read " + i);
        }
        assertTrue(replies.get((long) reads) instanceof Reply.InodeInfo, () -> "create: " + replies.get((long) reads));
        assertTrue(bystander.lookup("behind-unread-replies").toCompletableFuture().join().file().ino() > 0);
    }

    @ParameterizedTest
    @EnumSource(Engines.class)
    void connectionsBeyondTheLimitAreRefusedOrWaitUntilOneCloses(Engines engine) throws Exception {
        start(config(engine).withWire(WireLimits.defaults().withMaxConnections(2)));
        NodeClient first = client();
        NodeClient second = client();
        second.stats().toCompletableFuture().join();
        first.stats().toCompletableFuture().join();
        Socket third = connect();
        third.getOutputStream().write(codec.encodeFrame(31, new Request.ListFiles()));
        if (engine != Engines.PEKKO_TCP) {
            // nio: accepted and closed at once, counted; those served keep being served
            third.setSoTimeout(10_000);
            assertEquals(-1, TestNodes.readOrReset(third), "refused beyond the limit");
            assertEquals(1, node.counters().get(NodeCounters.CONNECTIONS_REFUSED));
            assertTrue(second.stats().toCompletableFuture().join().containsKey("refused_connections"));
            return;
        }
        third.setSoTimeout(1_000);
        assertThrows(java.net.SocketTimeoutException.class, () -> third.getInputStream().read(), "served beyond the limit");
        first.close();
        third.setSoTimeout(10_000);
        FrameReader reader = new FrameReader(third.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
        assertTrue(reader.next(), "served once a slot is free");
        assertEquals(31, reader.requestId());
    }

    private static <T> T join(java.util.concurrent.CompletionStage<T> f) throws Throwable {
        try {
            return f.toCompletableFuture().join();
        } catch (CompletionException e) {
            throw e.getCause();
        }
    }
}
