package dionode.protocol.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.Wire;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class NodeClientTest {

    private static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    /** The NodeException a stage failed with (waiting up to 5 s). */
    private static NodeException failure(CompletionStage<?> stage) throws Exception {
        try {
            stage.toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return assertInstanceOf(NodeException.class, e.getCause());
        }
        return fail("expected the stage to fail");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(1);
        }
    }

    private static Reply.InodeInfo info(long ino, String name) {
        return new Reply.InodeInfo(new FileId(ino, 1), name, false);
    }

    @Test
    void repliesOutOfOrderReachTheirOwnFutures() throws Exception {
        try (FakeNode node = new FakeNode(); NodeClient client = node.connect(ClientOptions.defaults())) {
            CompletionStage<Reply.InodeInfo> first = client.lookup("a");
            CompletionStage<Reply.InodeInfo> second = client.lookup("b");
            FakeNode.Received r1 = node.take();
            FakeNode.Received r2 = node.take();
            assertEquals(new Request.Lookup("a"), r1.message());
            assertEquals(new Request.Lookup("b"), r2.message());
            assertTrue(r2.id() > r1.id(), "ids increase");
            assertEquals(2, client.inFlight());

            node.reply(r2.id(), info(2, "b"));
            assertEquals(info(2, "b"), get(second));
            assertFalse(first.toCompletableFuture().isDone(), "reply 1 is still held");
            node.reply(r1.id(), info(1, "a"));
            assertEquals(info(1, "a"), get(first));
            assertEquals(0, client.inFlight());
            assertEquals(64, client.availableSlots());
        }
    }

    @Test
    void everyOperationSendsItsRequestAndConvertsItsReply() throws Exception {
        Reply.FileStat stat = new Reply.FileStat(new FileId(7, 1), "f", 10, 8, 2, 4096, 0644, LockPolicy.ZEROING_AWARE, 1, 2, new Reply.Layout(1, 1, 0));
        List<Reply.FiemapExtent> extents = List.of(new Reply.FiemapExtent(0, 4096, 4096, Reply.FiemapExtent.UNWRITTEN));
        try (FakeNode node = new FakeNode(request -> {
            if (request instanceof Request.InodeRequest r && !r.file().equals(new FileId(7, 1))) {
                return new Reply.Error(Errno.EINVAL, "the handle did not arrive: " + r.file());
            } else if (request instanceof Request.Create c) {
                return new Reply.InodeInfo(new FileId(7, 1), c.name(), true);
            } else if (request instanceof Request.ListFiles) {
                return new Reply.FileList(List.of(new Reply.DirEntry("f", new FileId(7, 1))));
            } else if (request instanceof Request.Write w) {
                return new Reply.Written(w.data().length);
            } else if (request instanceof Request.Read r) {
                return new Reply.Data(new byte[r.length()]);
            } else if (request instanceof Request.Stat) {
                return stat;
            } else if (request instanceof Request.Fiemap) {
                return new Reply.FiemapReply(extents);
            } else if (request instanceof Request.GetStats) {
                return new Reply.Stats(Map.of("write_shared", 3L));
            } else if (request instanceof Request.Members) {
                return new Reply.Members(List.of(new Reply.Member("127.0.0.1:7070", "v", "up", true)));
            }
            return new Reply.Done();
        }); NodeClient client = node.connect(ClientOptions.defaults())) {
            assertEquals(new Reply.InodeInfo(new FileId(7, 1), "f", true), get(client.create("f", LockPolicy.ALIGNED_SHARED, 0644, true)));
            assertEquals(List.of(new Reply.DirEntry("f", new FileId(7, 1))), get(client.list()));
            assertEquals(14336L, get(client.write(new FileId(7, 1), 512, new byte[14336], 0)));
            assertEquals(100, get(client.read(new FileId(7, 1), 0, 100, 0)).length);
            assertEquals(stat, get(client.stat(new FileId(7, 1))));
            assertEquals(extents, get(client.fiemap(new FileId(7, 1), 0, 0)));
            assertEquals(Map.of("write_shared", 3L), get(client.stats()));
            assertEquals(List.of(new Reply.Member("127.0.0.1:7070", "v", "up", true)), get(client.members()));
            assertNull(get(client.unlink("g")));
            assertNull(get(client.fsync(new FileId(7, 1))));
            assertNull(get(client.fallocate(new FileId(7, 1), 0, 1 << 20, true)));
            assertNull(get(client.punchHole(new FileId(7, 1), 0, 4096)));
            assertNull(get(client.zeroRange(new FileId(7, 1), 0, 4096, true)));
            assertNull(get(client.truncate(new FileId(7, 1), 0)));
            assertNull(get(client.chmod(new FileId(7, 1), 04755)));
        }
    }

    @Test
    void errorRepliesBecomeNodeExceptionsAndWrongTypesEbadmsg() throws Exception {
        try (FakeNode node = new FakeNode(); NodeClient client = node.connect(ClientOptions.defaults())) {
            CompletionStage<byte[]> read = client.read(new FileId(1, 1), 0, 4096, 1);
            node.reply(node.take().id(), new Reply.Error(Errno.EAGAIN, "would block"));
            NodeException e = failure(read);
            assertEquals(Errno.EAGAIN, e.errno());
            assertEquals("would block", e.detail());
            assertEquals("EAGAIN: would block", e.getMessage());

            CompletionStage<Reply.InodeInfo> lookup = client.lookup("missing");
            node.reply(node.take().id(), new Reply.Error(Errno.ENOENT, "no such file: missing"));
            assertEquals(Errno.ENOENT, failure(lookup).errno());

            CompletionStage<Reply.FileStat> stat = client.stat(new FileId(1, 1));
            node.reply(node.take().id(), new Reply.Done());
            NodeException wrong = failure(stat);
            assertEquals(Errno.EBADMSG, wrong.errno());
            assertTrue(wrong.getMessage().contains("FileStat"), wrong.getMessage());

            // the raw variant hands the Error over as a value
            CompletionStage<Reply> raw = client.send(new Request.Lookup("missing"));
            node.reply(node.take().id(), new Reply.Error(Errno.ENOENT, "gone"));
            assertEquals(new Reply.Error(Errno.ENOENT, "gone"), get(raw));

            // none of that hurt the connection
            assertTrue(client.isOpen());
            CompletionStage<Reply.InodeInfo> ok = client.lookup("a");
            node.reply(node.take().id(), info(1, "a"));
            assertEquals(info(1, "a"), get(ok));
        }
    }

    @Test
    void callerBeyondMaxInFlightBlocksUntilAReplyFreesASlot() throws Exception {
        try (FakeNode node = new FakeNode(); NodeClient client = node.connect(ClientOptions.defaults().withMaxInFlight(2))) {
            CompletionStage<Reply.InodeInfo> a = client.lookup("a");
            CompletionStage<Reply.InodeInfo> b = client.lookup("b");
            FakeNode.Received ra = node.take();
            FakeNode.Received rb = node.take();
            assertEquals(0, client.availableSlots());
            assertEquals(2, client.inFlight());

            AtomicReference<CompletionStage<Reply.InodeInfo>> c = new AtomicReference<>();
            CountDownLatch returned = new CountDownLatch(1);
            Thread caller = new Thread(() -> {
                c.set(client.lookup("c"));
                returned.countDown();
            }, "third-caller");
            caller.start();
            await(() -> caller.getState() == Thread.State.WAITING, "the third caller blocks");
            assertEquals(1, returned.getCount(), "the third call has not returned");
            assertEquals(0, node.receivedWaiting(), "the third request was not sent");

            node.reply(rb.id(), info(2, "b"));
            assertTrue(returned.await(5, TimeUnit.SECONDS), "the third call returns once a slot is free");
            FakeNode.Received rc = node.take();
            assertEquals(new Request.Lookup("c"), rc.message());
            assertEquals(info(2, "b"), get(b));

            node.reply(rc.id(), info(3, "c"));
            node.reply(ra.id(), info(1, "a"));
            assertEquals(info(3, "c"), get(c.get()));
            assertEquals(info(1, "a"), get(a));
            caller.join(5000);
        }
    }

    @Test
    void callbackOnTheReaderThreadMaySendTheNextRequest() throws Exception {
        try (FakeNode node = new FakeNode(r -> info(1, ((Request.Lookup) r).name()));
                NodeClient client = node.connect(ClientOptions.defaults().withMaxInFlight(1))) {
            CompletionStage<Reply.InodeInfo> chained = client.lookup("a").thenCompose(i -> client.lookup(i.name() + "b"));
            assertEquals(info(1, "ab"), get(chained));
        }
    }

    @Test
    void nodeClosingFailsEveryOutstandingRequestWithEioAndLaterCallsFailAtOnce() throws Exception {
        try (FakeNode node = new FakeNode(); NodeClient client = node.connect(ClientOptions.defaults())) {
            List<CompletionStage<?>> outstanding = List.of(client.lookup("a"), client.read(new FileId(1, 1), 0, 512, 0), client.fsync(new FileId(1, 1)));
            for (int i = 0; i < outstanding.size(); i++) {
                node.take();
            }
            node.dropConnection();
            for (CompletionStage<?> stage : outstanding) {
                NodeException e = failure(stage);
                assertEquals(Errno.EIO, e.errno());
                assertTrue(e.getMessage().startsWith("EIO: connection to 127.0.0.1:" + node.port() + " closed"), e.getMessage());
            }
            assertFalse(client.isOpen());
            assertEquals(0, client.inFlight());

            CompletableFuture<Reply.InodeInfo> later = client.lookup("b").toCompletableFuture();
            assertTrue(later.isDone(), "a call after the close fails at once");
            assertEquals(Errno.EIO, failure(later).errno());
        }
    }

    @Test
    void closingTheClientFailsOutstandingRequests() throws Exception {
        try (FakeNode node = new FakeNode()) {
            NodeClient client = node.connect(ClientOptions.defaults());
            CompletionStage<Void> sync = client.fsync(new FileId(3, 1));
            node.take();
            client.close();
            NodeException e = failure(sync);
            assertEquals(Errno.EIO, e.errno());
            assertTrue(e.getMessage().contains("closed by the client"), e.getMessage());
            assertEquals(Errno.EIO, failure(client.stat(new FileId(3, 1))).errno());
            client.close(); // idempotent
        }
    }

    private void assertBadReplyClosesWithEbadmsg(byte[] badFrame, String expectedInMessage) throws Exception {
        try (FakeNode node = new FakeNode(); NodeClient client = node.connect(ClientOptions.defaults())) {
            CompletionStage<Reply.InodeInfo> a = client.lookup("a");
            CompletionStage<Void> b = client.fsync(new FileId(1, 1));
            node.take();
            node.take();
            node.sendRaw(badFrame);
            for (CompletionStage<?> stage : List.of(a, b)) {
                NodeException e = failure(stage);
                assertEquals(Errno.EBADMSG, e.errno(), e.getMessage());
                assertTrue(e.getMessage().contains(expectedInMessage), e.getMessage());
            }
            assertFalse(client.isOpen());
            assertEquals(Errno.EBADMSG, client.closeCause().errno());
            assertTrue(client.lookup("c").toCompletableFuture().isDone());
        }
    }

    @Test
    void oversizedReplyFrameClosesTheClientWithEbadmsg() throws Exception {
        // a peer declaring a ~2 GiB frame: refused from the header alone
        assertBadReplyClosesWithEbadmsg(ByteBuffer.allocate(12).putInt(Integer.MAX_VALUE).putLong(1).array(), "exceeds");
    }

    @Test
    void negativeReplyFrameLengthClosesTheClientWithEbadmsg() throws Exception {
        assertBadReplyClosesWithEbadmsg(ByteBuffer.allocate(12).putInt(-1).putLong(1).array(), "exceeds");
    }

    @Test
    void tooShortReplyFrameClosesTheClientWithEbadmsg() throws Exception {
        assertBadReplyClosesWithEbadmsg(ByteBuffer.allocate(12).putInt(3).putLong(1).array(), "shorter");
    }

    @Test
    void garbageReplyBodyClosesTheClientWithEbadmsg() throws Exception {
        // class id 200: nothing is registered there
        byte[] body = {(byte) 0xca, 0x01, 0, 0};
        assertBadReplyClosesWithEbadmsg(
                ByteBuffer.allocate(Wire.HEADER_BYTES + body.length).putInt(Wire.ID_BYTES + body.length).putLong(1).put(body).array(),
                "undecodable");
    }

    @Test
    void replyToAnIdNeverSentClosesTheClientWithEbadmsg() throws Exception {
        assertBadReplyClosesWithEbadmsg(new dionode.protocol.wire.KryoCodec().encodeFrame(999_999, new Reply.Done()), "not outstanding");
    }

    @Test
    void messageTooBigFailsWithEinvalAndTheConnectionKeepsWorking() throws Exception {
        try (FakeNode node = new FakeNode(); NodeClient client = node.connect(ClientOptions.defaults().withMaxPayload(1024))) {
            CompletableFuture<Long> big = client.write(new FileId(1, 1), 0, new byte[4096], 0).toCompletableFuture();
            assertTrue(big.isDone(), "refused before anything is sent");
            assertEquals(Errno.EINVAL, failure(big).errno());
            assertEquals(64, client.availableSlots());

            CompletionStage<Long> small = client.write(new FileId(1, 1), 0, new byte[512], 0);
            FakeNode.Received r = node.take();
            assertEquals(512, ((Request.Write) r.message()).data().length);
            node.reply(r.id(), new Reply.Written(512));
            assertEquals(512L, get(small));
            assertTrue(client.isOpen());
        }
    }

    /** A reply the fake node derives from a request, so every caller can check it got its own. */
    private static Reply echo(Object request) {
        if (request instanceof Request.Read r) {
            return new Reply.Data(readPayload(r.ino(), r.offset(), r.length()));
        }
        if (request instanceof Request.Write w) {
            return new Reply.Written(crc(w.data()) ^ w.offset() << 32);
        }
        return new Reply.Error(Errno.EINVAL, "unexpected " + request);
    }

    private static byte[] readPayload(long ino, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        b.putLong(ino).putLong(offset);
        while (b.hasRemaining()) {
            b.put((byte) (ino * 31 + offset));
        }
        return b.array();
    }

    private static long crc(byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(data);
        return crc.getValue();
    }

    @Test
    void manyConcurrentCallersEachGetTheirOwnReplies() throws Exception {
        int threads = 8;
        int perThread = 2000;
        try (FakeNode node = new FakeNode(NodeClientTest::echo); NodeClient client = node.connect(ClientOptions.defaults())) {
            List<Thread> callers = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch start = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                long ino = t + 1;
                FileId file = new FileId(ino, 0);
                Thread caller = new Thread(() -> {
                    try {
                        start.await();
                        List<CompletableFuture<Boolean>> checks = new ArrayList<>(perThread);
                        byte[] reused = new byte[64];
                        for (int i = 0; i < perThread; i++) {
                            long offset = i;
                            if (i % 2 == 0) {
                                int length = 16 + i % 50;
                                checks.add(client.read(file, offset, length, 0).toCompletableFuture()
                                        .thenApply(data -> java.util.Arrays.equals(data, readPayload(ino, offset, length))));
                            } else {
                                ByteBuffer.wrap(reused).putLong(ino).putLong(offset).putInt(i * 7919);
                                long expected = crc(reused) ^ offset << 32;
                                // the array is reused at once: the client must have encoded it already
                                checks.add(client.write(file, offset, reused, 0).toCompletableFuture().thenApply(n -> n == expected));
                            }
                        }
                        for (int i = 0; i < perThread; i++) {
                            assertTrue(checks.get(i).get(10, TimeUnit.SECONDS), "thread " + ino + " request " + i + " got a foreign reply");
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "caller-" + ino);
                callers.add(caller);
                caller.start();
            }
            start.countDown();
            for (Thread caller : callers) {
                caller.join(15_000);
                assertFalse(caller.isAlive(), caller.getName() + " finished");
            }
            if (!failures.isEmpty()) {
                throw new AssertionError(failures.size() + " callers failed", failures.get(0));
            }
            assertEquals(0, client.inFlight());
            assertTrue(client.isOpen());
        }
    }

    @Test
    void connectFailureIsAnIOException() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThrows(java.io.IOException.class, () -> NodeClient.connect("127.0.0.1", port));
    }

    @Test
    void optionsHaveTheDocumentedDefaultsAndAreValidated() {
        ClientOptions d = ClientOptions.defaults();
        assertEquals(64, d.maxInFlight());
        assertEquals(Wire.DEFAULT_MAX_PAYLOAD, d.maxPayload());
        assertTrue(d.tcpNoDelay());
        assertThrows(IllegalArgumentException.class, () -> d.withMaxInFlight(0));
        assertThrows(IllegalArgumentException.class, () -> d.withConnectTimeout(java.time.Duration.ZERO));
    }
}
