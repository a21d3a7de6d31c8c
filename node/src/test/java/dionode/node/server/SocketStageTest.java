package dionode.node.server;

import dionode.node.inode.NodeCounters;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.JnaNativeIO;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.Wire;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What a socket's transport must do beyond carrying bytes, on each transport and dispatcher ({@link Engines}): answer every
 * request a peer sent before it closed its sending side, and deliver a reply larger than the
 * socket's buffers to a peer that reads it slowly (the stage's partial writes) byte for byte.
 */
class SocketStageTest {
    private static final int B = 4096;
    private final KryoCodec codec = new KryoCodec();
    private Path device;
    private NodeServer node;

    @BeforeEach
    void device() throws Exception {
        device = TestNodes.newDevicePath();
    }

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    private FileId start(Engines engine, byte[] content) throws Exception {
        return start(TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withEngine(engine.engine()), content);
    }

    private FileId start(NodeConfig config, byte[] content) throws Exception {
        node = NodeServer.start(config, new JnaNativeIO());
        try (NodeClient client = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            FileId file = client.create("f", null, 0644, true).toCompletableFuture().join().file();
            client.write(file, 0, content, 0).toCompletableFuture().join();
            return file;
        }
    }

    @ParameterizedTest
    @EnumSource(Engines.class)
    void everyRequestSentBeforeThePeerClosedItsSideIsAnswered(Engines engine) throws Exception {
        byte[] content = new byte[4 * B];
        new Random(7).nextBytes(content);
        FileId file = start(engine, content);
        try (Socket socket = new Socket("127.0.0.1", node.address().getPort())) {
            socket.setSoTimeout(10_000);
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            for (long id = 1; id <= 40; id++) {
                frames.write(codec.encodeFrame(id, id % 2 == 0 ? new Request.Stat(file) : new Request.Read(file, 0, 4 * B, 0)));
            }
            socket.getOutputStream().write(frames.toByteArray());
            socket.shutdownOutput();
            FrameReader reader = new FrameReader(socket.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
            Set<Long> answered = new HashSet<>();
            while (reader.next()) {
                Object reply = codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength());
                if (reader.requestId() % 2 == 0) {
                    assertEquals(4L * B, ((Reply.FileStat) reply).size());
                } else {
                    assertArrayEquals(content, ((Reply.Data) reply).data());
                }
                assertTrue(answered.add(reader.requestId()), "answered twice: " + reader.requestId());
            }
            assertEquals(40, answered.size(), "every request answered before the node closed: " + answered);
        }
    }

    @ParameterizedTest
    @EnumSource(Engines.class)
    void aReplyLargerThanTheSocketBuffersReachesASlowReaderWhole(Engines engine) throws Exception {
        byte[] content = new byte[Wire.MAX_IO_BYTES];
        new Random(11).nextBytes(content);
        FileId file = start(engine, content);
        try (Socket socket = smallWindowSocket()) {
            socket.getOutputStream().write(codec.encodeFrame(5, new Request.Read(file, 0, content.length, 0)));
            DataInputStream slow = new DataInputStream(socket.getInputStream());
            int length = slow.readInt();
            byte[] frame = new byte[Wire.LENGTH_BYTES + length];
            ByteBuffer.wrap(frame).putInt(length);
            int got = Wire.LENGTH_BYTES;
            int reads = 0;
            while (got < frame.length) {
                int n = slow.read(frame, got, Math.min(64 << 10, frame.length - got));
                assertTrue(n > 0, "the connection ended after " + got + " of " + frame.length + " bytes");
                got += n;
                if (++reads % 16 == 0) {
                    Thread.sleep(5); // let the node's socket buffer fill, so its writes come back partial
                }
            }
            assertWholeData(frame, 5, content);
        }
    }

    /** A client socket whose receive buffer (16 KiB) a large reply overfills. */
    private Socket smallWindowSocket() throws java.io.IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(16 << 10);
        socket.connect(node.address());
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** {@code received} is one whole reply to request {@code id}, carrying {@code content}. */
    private void assertWholeData(byte[] received, long id, byte[] content) throws Exception {
        FrameReader reader = new FrameReader(new ByteArrayInputStream(received), Wire.DEFAULT_MAX_PAYLOAD);
        assertTrue(reader.next(), "a whole frame arrived: " + received.length + " bytes");
        assertEquals(id, reader.requestId());
        assertArrayEquals(content, ((Reply.Data) codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength())).data());
    }

    /** The peer closes its sending side at once and reads slowly: the reply still leaving when the flow ends arrives whole. */
    @ParameterizedTest
    @EnumSource(value = Engines.class, names = {"NIO_ON_LOOP", "NIO_THREAD_PER_CONNECTION"})
    void aLargeReplyStillLeavingWhenThePeerHasClosedItsSideArrivesWhole(Engines engine) throws Exception {
        byte[] content = new byte[Wire.MAX_IO_BYTES];
        new Random(13).nextBytes(content);
        FileId file = start(engine, content);
        try (Socket socket = smallWindowSocket()) {
            socket.getOutputStream().write(codec.encodeFrame(6, new Request.Read(file, 0, content.length, 0)));
            socket.shutdownOutput();
            Thread.sleep(300); // the node reads the end of input and its flow finishes while the reply fills the socket
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8 << 10];
            for (int n; (n = socket.getInputStream().read(buf)) > 0; ) {
                got.write(buf, 0, n);
            }
            assertWholeData(got.toByteArray(), 6, content);
        }
    }

    /** With one request in the node at a time the flow lags the socket, so chunks pile up in the stage: none may be lost. */
    @ParameterizedTest
    @EnumSource(Engines.class)
    void framesArrivingFasterThanTheFlowTakesThemAreAllServedInOrder(Engines engine) throws Exception {
        byte[] content = new byte[4 * B];
        FileId file = start(TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withEngine(engine.engine())
                .withTuning(1, 4, 0), content);
        int requests = 3000;
        try (Socket socket = new Socket("127.0.0.1", node.address().getPort())) {
            socket.setSoTimeout(20_000);
            Thread sender = new Thread(() -> {
                try {
                    for (long id = 1; id <= requests; id++) {
                        byte[] data = new byte[B];
                        java.util.Arrays.fill(data, (byte) id);
                        socket.getOutputStream().write(codec.encodeFrame(id, new Request.Write(file, (id % 4) * B, data, 0)));
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            sender.start();
            FrameReader reader = new FrameReader(socket.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
            for (long id = 1; id <= requests; id++) {
                assertTrue(reader.next(), "reply " + id + " of " + requests);
                assertEquals(id, reader.requestId(), "one request in the node at a time: replies in order");
                assertEquals(new Reply.Written(B), codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength()));
            }
            sender.join();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engines.class, names = {"NIO_ON_LOOP", "NIO_THREAD_PER_CONNECTION"})
    void onTheEventLoopAConnectionHasNoThreadOfItsOwn(Engines engine) throws Exception {
        byte[] content = new byte[B];
        FileId file = start(engine, content);
        try (NodeClient client = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            client.stat(file).toCompletableFuture().join();
            boolean readerThread = Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("dionode-conn-"));
            assertEquals(engine == Engines.NIO_THREAD_PER_CONNECTION, readerThread,
                    "a reader thread per connection only without the loop: " + engine);
            assertTrue(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("dionode-loop-0"))
                    == engine.engine().eventLoop(), "the loop runs only when asked for");
        }
    }

    /** 32 requests in one segment: on the loop their replies leave in a few gathering writes; off it, one write each. */
    @ParameterizedTest
    @EnumSource(value = Engines.class, names = {"NIO_ON_LOOP", "NIO_THREAD_PER_CONNECTION"})
    void theRepliesOfOneRunOfTheStreamLeaveInOneWrite(Engines engine) throws Exception {
        FileId file = start(engine, new byte[B]);
        int requests = 32;
        long repliesBefore = settled(NodeCounters.WIRE_REPLIES); // the set-up's last reply is counted after its client has it
        long writesBefore = node.counters().get(NodeCounters.WIRE_WRITES);
        try (Socket socket = new Socket("127.0.0.1", node.address().getPort())) {
            socket.setSoTimeout(10_000);
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            for (long id = 1; id <= requests; id++) {
                frames.write(codec.encodeFrame(id, new Request.Stat(file)));
            }
            socket.getOutputStream().write(frames.toByteArray());
            FrameReader reader = new FrameReader(socket.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
            Set<Long> answered = new HashSet<>();
            for (int i = 0; i < requests; i++) {
                assertTrue(reader.next(), "reply " + i + " of " + requests);
                assertEquals((long) B, ((Reply.FileStat) codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength())).size());
                assertTrue(answered.add(reader.requestId()), "answered twice: " + reader.requestId());
            }
        }
        long replies = settled(NodeCounters.WIRE_REPLIES) - repliesBefore;
        long writes = node.counters().get(NodeCounters.WIRE_WRITES) - writesBefore;
        assertEquals(requests, replies, "every reply counted once, when it left whole");
        if (engine.engine().eventLoop()) {
            assertTrue(writes <= requests / 4, writes + " writes for " + requests + " replies taken in a few runs of the stream");
        } else {
            assertEquals(requests, writes, "off the loop each reply is written as it comes");
        }
    }

    private long settled(String counter) throws InterruptedException {
        long seen = node.counters().get(counter);
        for (int i = 0; i < 100; i++) {
            Thread.sleep(20);
            long now = node.counters().get(counter);
            if (now == seen) {
                return now;
            }
            seen = now;
        }
        throw new AssertionError(counter + " still moving");
    }
}
