package dionode.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dionode.protocol.wire.HostileBodies.ARRAY_LIST;
import static dionode.protocol.wire.HostileBodies.FILE_LIST;
import static dionode.protocol.wire.HostileBodies.LIST_N;
import static dionode.protocol.wire.HostileBodies.lookupDeclaring;
import static dionode.protocol.wire.HostileBodies.nestedLists;
import static dionode.protocol.wire.HostileBodies.statByName;
import static dionode.protocol.wire.HostileBodies.writeDeclaring;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KryoCodecTest {
    private final KryoCodec codec = new KryoCodec();

    private Object roundTrip(long id, Object message) throws MalformedFrameException {
        byte[] frame = codec.encodeFrame(id, message);
        ByteBuffer header = ByteBuffer.wrap(frame);
        assertEquals(frame.length - Wire.LENGTH_BYTES, header.getInt());
        assertEquals(id, header.getLong());
        return codec.decodeBody(frame, Wire.HEADER_BYTES, frame.length - Wire.HEADER_BYTES);
    }

    @Test
    void everyMessageRoundTrips() throws Exception {
        List<Object> messages = List.of(
                new Request.Create("f", LockPolicy.ALIGNED_SHARED, 06755, true),
                new Request.Lookup("name with spaces"),
                new Request.Unlink("x"),
                new Request.ListFiles(),
                new Request.Read(new FileId(7, 4), 4096, 8192, 1),
                new Request.Fsync(new FileId(3, 4)),
                new Request.Fallocate(new FileId(1, 4), 0, 1 << 20, true),
                new Request.PunchHole(new FileId(1, 4), 4096, 8192),
                new Request.ZeroRange(new FileId(1, 4), 0, 512, true),
                new Request.Truncate(new FileId(1, 4), 12345),
                new Request.Stat(new FileId(9, 4)),
                new Request.Fiemap(new FileId(9, 4), 0, 0),
                new Request.Chmod(new FileId(9, 4), 04000),
                new Request.GetStats(),
                new Request.Explain(new FileId(9, 4), 512, 14336, true),
                new Reply.Explanation(LockPolicy.ZEROING_AWARE, 512, 14336, true, 16384, 16384, true, true, false,
                        List.of(new Reply.ExtentAnswer(0, 4, "written", 1), new Reply.ExtentAnswer(3, 1, Reply.ExtentAnswer.NOT_CACHED, 0)),
                        true, "needs_zeroing", "exclusive", true, true, 0, "free", 0, true, "EAGAIN: needs the exclusive lock"),
                new Reply.Error(Errno.EFSCORRUPTED, "bad extent"),
                new Reply.Done(),
                new Reply.InodeInfo(new FileId(5, -2), "f", false),
                new Reply.FileList(List.of(new Reply.DirEntry("a", new FileId(1, 7)), new Reply.DirEntry("b", new FileId(2, 0)))),
                new Reply.FileList(List.of()),
                new Reply.Written(14336),
                new Reply.FileStat(new FileId(1, 9), "f", 10, 8, 2, 4096, 0644, LockPolicy.ZEROING_AWARE, 1, 2, new Reply.Layout(3, 1, 1)),
                new Reply.FiemapReply(List.of(new Reply.FiemapExtent(0, 4096, 4096, Reply.FiemapExtent.UNWRITTEN))),
                new Reply.Stats(Map.of("write_shared", 3L, "eagain", 0L)),
                new Request.Members(),
                new Reply.Members(List.of(new Reply.Member("pekko://dionode@127.0.0.1:25520", "0f8e2c1a-5b6d-4e7f-9a0b-1c2d3e4f5a6b",
                        "up", true), new Reply.Member("pekko://dionode@127.0.0.1:25521", "", "weakly-up", false))),
                new Reply.Members(List.of()));
        long id = 1;
        for (Object m : messages) {
            assertEquals(m, roundTrip(id++, m), m.toString());
        }
    }

    @Test
    void nullPolicyAndByteArraysSurvive() throws Exception {
        assertEquals(new Request.Create("f", null, 0644, false), roundTrip(1, new Request.Create("f", null, 0644, false)));
        byte[] data = new byte[14336];
        Arrays.fill(data, (byte) 0x5a);
        Request.Write w = (Request.Write) roundTrip(2, new Request.Write(new FileId(1, 4), 512, data, 0));
        assertArrayEquals(data, w.data());
        assertEquals(512, w.offset());
        Reply.Data d = (Reply.Data) roundTrip(3, new Reply.Data(data));
        assertArrayEquals(data, d.data());
    }

    @Test
    void anUnknownLockPolicyIsRefusedInTheUsersTerms() throws Exception {
        byte[] overwrite = codec.encodeFrame(1, new Request.Create("f", LockPolicy.OVERWRITE_CHECK, 0644, true));
        byte[] zeroing = codec.encodeFrame(1, new Request.Create("f", LockPolicy.ZEROING_AWARE, 0644, true));
        int at = 0;
        while (overwrite[at] == zeroing[at]) {
            at++;
        }
        byte[] body = Arrays.copyOfRange(zeroing, Wire.HEADER_BYTES, zeroing.length);
        body[at - Wire.HEADER_BYTES] = 107;
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> codec.decodeBody(body, 0, body.length));
        assertTrue(e.getMessage().contains("unknown lock policy code 107"), e.getMessage());
        assertFalse(e.getMessage().contains("dionode."), "no class name in the message: " + e.getMessage());
    }

    @Test
    void recordsWithNullFieldsDecodeSoTheNodeMustJudgeThem() throws Exception {
        Request.Write w = (Request.Write) roundTrip(1, new Request.Write(new FileId(1, 1), 0, null, 0));
        assertEquals(null, w.data());
        assertEquals(new Request.Lookup(null), roundTrip(2, new Request.Lookup(null)));
        assertEquals(new Request.Stat(null), roundTrip(3, new Request.Stat(null)));
    }

    @Test
    void fileIdHasTheAppendedRegistrationId() {
        byte[] frame = codec.encodeFrame(1, new FileId(1, 1));
        assertEquals(56 + 2, frame[Wire.HEADER_BYTES], "Kryo writes the class id + 2 as a varint");
    }

    @Test
    void mutableListsAreSentAsImmutable() throws Exception {
        List<Reply.DirEntry> entries = new ArrayList<>(List.of(new Reply.DirEntry("a", new FileId(1, 1))));
        Reply.FileList decoded = (Reply.FileList) roundTrip(1, new Reply.FileList(entries));
        assertEquals(entries, decoded.entries());
    }

    @Test
    void unregisteredClassIdIsRefusedNotInstantiated() {
        // varint class id 200 + 2 (Kryo writes id+2): nothing is registered there
        byte[] body = {(byte) 0xca, 0x01, 0, 0};
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> codec.decodeBody(body, 0, body.length));
        assertTrue(e.getMessage().contains("undecodable"), e.getMessage());
    }

    @Test
    void garbageAndTruncatedBodiesAreMalformed() {
        byte[] frame = codec.encodeFrame(1, new Request.Read(new FileId(7, 4), 4096, 8192, 0));
        int bodyLength = frame.length - Wire.HEADER_BYTES;
        assertThrows(MalformedFrameException.class, () -> codec.decodeBody(frame, Wire.HEADER_BYTES, bodyLength - 2));
        byte[] trailing = Arrays.copyOf(frame, frame.length + 3);
        assertThrows(MalformedFrameException.class, () -> codec.decodeBody(trailing, Wire.HEADER_BYTES, bodyLength + 3));
        byte[] empty = {};
        assertThrows(MalformedFrameException.class, () -> codec.decodeBody(empty, 0, 0));
        // a list declaring 2^31 entries in a 10-byte body
        byte[] hugeList = {(byte) (41 + 2), (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 0, 0, 0, 0};
        assertThrows(MalformedFrameException.class, () -> codec.decodeBody(hugeList, 0, hugeList.length));
    }

    @Test
    void oversizedMessagesAreRefusedBeforeSending() {
        KryoCodec small = new KryoCodec(1024);
        assertThrows(IllegalArgumentException.class, () -> small.encodeFrame(1, new Request.Write(new FileId(1, 4), 0, new byte[4096], 0)));
    }

    @Test
    void lengthsAreJudgedBeforeBuffering() {
        assertEquals(null, Wire.checkLength(8 + 100, 1024));
        assertTrue(Wire.checkLength(7, 1024).contains("shorter"));
        assertTrue(Wire.checkLength(-1, 1024).contains("shorter"));
        assertTrue(Wire.checkLength(8 + 1025, 1024).contains("exceeds"));
        assertTrue(Wire.checkLength(0xffffffffL, Wire.DEFAULT_MAX_PAYLOAD).contains("exceeds"));
    }

    @Test
    void deeplyNestedListsAreRefusedWithoutRecursing() {
        for (int listId : new int[] {ARRAY_LIST, LIST_N}) {
            for (int depth : new int[] {KryoCodec.MAX_DEPTH + 1, 3_000, 100_000, 2_000_000}) {
                byte[] body = nestedLists(listId, depth);
                assertThrows(MalformedFrameException.class, () -> codec.decodeBody(body, 0, body.length), "depth " + depth);
            }
        }
    }

    @Test
    void listsHoldOnlyDirectoryEntriesExtentsAndMembers() throws Exception {
        // FileList(entries = [[]]): a list in a list
        byte[] listInList = {(byte) FILE_LIST, (byte) ARRAY_LIST, 1, (byte) ARRAY_LIST, 0};
        MalformedFrameException e = assertThrows(MalformedFrameException.class,
                () -> codec.decodeBody(listInList, 0, listInList.length));
        assertTrue(e.getMessage().contains("only directory entries, extents and members"), e.getMessage());
        // FileList(entries = [Stat(9)]): a request inside a reply
        byte[] stat = codec.encodeFrame(1, new Request.Stat(new FileId(9, 1)));
        byte[] requestInList = new byte[3 + stat.length - Wire.HEADER_BYTES];
        requestInList[0] = (byte) FILE_LIST;
        requestInList[1] = (byte) ARRAY_LIST;
        requestInList[2] = 1;
        System.arraycopy(stat, Wire.HEADER_BYTES, requestInList, 3, stat.length - Wire.HEADER_BYTES);
        assertThrows(MalformedFrameException.class, () -> codec.decodeBody(requestInList, 0, requestInList.length));
        // FileList(entries = [null])
        byte[] nullInList = {(byte) FILE_LIST, (byte) ARRAY_LIST, 1, 0};
        assertThrows(MalformedFrameException.class, () -> codec.decodeBody(nullInList, 0, nullInList.length));
    }

    @Test
    void aClassNamedOnTheWireIsRefusedEvenWhenRegistered() {
        byte[] body = statByName(new FileId(9, 1));
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> codec.decodeBody(body, 0, body.length));
        assertTrue(e.getMessage().contains("class named on the wire"), e.getMessage());
        assertThrows(MalformedFrameException.class, () -> codec.decodeRequest(body, 0, body.length));
    }

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }

    @Test
    void declaredLengthsAreJudgedAgainstTheBodyBeforeAllocating() throws Exception {
        byte[] honestLookup = lookupDeclaring(3);
        assertEquals(new Request.Lookup("abc"), codec.decodeRequest(honestLookup, 0, honestLookup.length));
        byte[] honestWrite = writeDeclaring(3);
        assertArrayEquals(new byte[] {1, 2, 3}, ((Request.Write) codec.decodeRequest(honestWrite, 0, honestWrite.length)).data());
        for (byte[] body : List.of(lookupDeclaring(1L << 26), lookupDeclaring(1L << 30), lookupDeclaring(0xfffffffeL),
                writeDeclaring(1 << 26), writeDeclaring(Integer.MAX_VALUE - 1))) {
            long before = allocatedByThisThread();
            MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> codec.decodeRequest(body, 0, body.length));
            long allocated = allocatedByThisThread() - before;
            assertTrue(allocated < 1 << 20, allocated + " bytes allocated to refuse a " + body.length + "-byte body");
            assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        }
    }

    @Test
    void aBodyOfAnotherClassIsNotARequest() {
        byte[] frame = codec.encodeFrame(1, new Reply.Done());
        MalformedFrameException e = assertThrows(MalformedFrameException.class,
                () -> codec.decodeRequest(frame, Wire.HEADER_BYTES, frame.length - Wire.HEADER_BYTES));
        assertTrue(e.getMessage().contains("not a request"), e.getMessage());
    }

    /** {@code body} as the node holds it: a read-only view in the middle of a larger read, bytes on both sides. */
    private static ByteBuffer viewInARead(byte[] body) {
        byte[] read = new byte[body.length + 24];
        Arrays.fill(read, (byte) 0x7f);
        System.arraycopy(body, 0, read, 11, body.length);
        return ByteBuffer.wrap(read, 11, body.length).asReadOnlyBuffer();
    }

    @Test
    void aRequestDecodesFromAViewOfTheReadItCameIn() throws Exception {
        byte[] data = new byte[8192];
        Arrays.fill(data, (byte) 0x5a);
        List<Request> requests = List.of(new Request.Write(new FileId(7, 4), 1L << 40, data, 3), new Request.Lookup("naïve name"),
                new Request.Read(new FileId(7, 4), 4096, 8192, 1), new Request.Create("f", LockPolicy.ALIGNED_SHARED, 0644, false));
        for (Request request : requests) {
            byte[] frame = codec.encodeFrame(9, request);
            byte[] body = Arrays.copyOfRange(frame, Wire.HEADER_BYTES, frame.length);
            ByteBuffer view = viewInARead(body);
            Request decoded = codec.decodeRequest(view);
            assertArrayEquals(frame, codec.encodeFrame(9, decoded), request.getClass().getSimpleName());
            assertEquals(11, view.position(), "the caller's view is not moved");
        }
        byte[] frame = codec.encodeFrame(1, requests.get(0));
        Request.Write write = (Request.Write) codec.decodeRequest(viewInARead(Arrays.copyOfRange(frame, Wire.HEADER_BYTES, frame.length)));
        assertArrayEquals(data, write.data());
    }

    @Test
    void aViewGetsTheRefusalsOfAnArray() {
        byte[] frame = codec.encodeFrame(1, new Request.Stat(new FileId(9, 1)));
        byte[] trailing = Arrays.copyOfRange(frame, Wire.HEADER_BYTES, frame.length + 2);
        List<byte[]> hostile = List.of(lookupDeclaring(1L << 30), lookupDeclaring(0xfffffffeL), writeDeclaring(1 << 26),
                writeDeclaring(Integer.MAX_VALUE - 1), statByName(new FileId(9, 1)), nestedLists(ARRAY_LIST, 100_000), trailing);
        for (byte[] body : hostile) {
            MalformedFrameException fromArray = assertThrows(MalformedFrameException.class, () -> codec.decodeRequest(body, 0, body.length));
            long before = allocatedByThisThread();
            MalformedFrameException fromView = assertThrows(MalformedFrameException.class, () -> codec.decodeRequest(viewInARead(body)));
            assertTrue(allocatedByThisThread() - before < 1 << 20, "a " + body.length + "-byte body allocated more than 1 MiB");
            assertEquals(fromArray.getMessage(), fromView.getMessage());
        }
        // a body that ends inside its message: Kryo words it by the body's size, the view always as an underflow
        for (byte[] cut : List.of(new byte[0], Arrays.copyOf(frame, Wire.HEADER_BYTES + 2))) {
            byte[] body = cut.length == 0 ? cut : Arrays.copyOfRange(cut, Wire.HEADER_BYTES, cut.length);
            assertThrows(MalformedFrameException.class, () -> codec.decodeRequest(body, 0, body.length));
            MalformedFrameException fromView = assertThrows(MalformedFrameException.class, () -> codec.decodeRequest(viewInARead(body)));
            assertEquals("undecodable frame body: Buffer underflow.", fromView.getMessage());
        }
    }

    @Test
    void aFrameCarryingDataIsEncodedIntoOneArrayOfItsSize() throws Exception {
        byte[] data = new byte[64 << 10];
        Arrays.fill(data, (byte) 0x3c);
        List<Object> messages = List.of(new Request.Write(new FileId(1L << 40, 7, 3), Long.MAX_VALUE, data, -1),
                new Request.Write(new FileId(5, 1), 0, data, 0), new Reply.Data(data), new Request.Write(null, 4096, null, 2),
                new Reply.Data(new byte[0]));
        for (Object message : messages) {
            codec.encodeFrame(1, message); // the pool's Kryo and the class's code are ready
            long before = allocatedByThisThread();
            byte[] frame = codec.encodeFrame(-1L, message);
            long allocated = allocatedByThisThread() - before;
            assertTrue(allocated < frame.length + 4096, allocated + " bytes allocated for a frame of " + frame.length);
            assertArrayEquals(frame, codec.encodeFrame(-1L, roundTrip(-1L, message)));
        }
    }

    @Test
    void aThreadEncodesItsWritesIntoOneArrayItReuses() throws Exception {
        byte[] data = new byte[8 << 10];
        Arrays.fill(data, (byte) 0x5a);
        Request.Write write = new Request.Write(new FileId(3, 1), 8192, data, 0);
        KryoCodec.Reused first = codec.encodeFrameReusing(1, write);
        long before = allocatedByThisThread();
        for (int i = 0; i < 1000; i++) {
            KryoCodec.Reused frame = codec.encodeFrameReusing(i, write);
            assertSame(first.bytes(), frame.bytes());
        }
        long allocated = allocatedByThisThread() - before;
        assertTrue(allocated < 1000L * 1024, allocated + " bytes allocated for 1000 frames of " + first.length());
        KryoCodec.Reused last = codec.encodeFrameReusing(77, write);
        assertArrayEquals(codec.encodeFrame(77, write), Arrays.copyOf(last.bytes(), last.length()));
    }

    @Test
    void aSmallFrameAfterALargeOneIsWhole() throws Exception {
        codec.encodeFrameReusing(1, new Request.Write(new FileId(3, 1), 0, new byte[64 << 10], 0));
        KryoCodec.Reused small = codec.encodeFrameReusing(2, new Request.Lookup("name"));
        assertTrue(small.bytes().length > small.length());
        assertArrayEquals(codec.encodeFrame(2, new Request.Lookup("name")), Arrays.copyOf(small.bytes(), small.length()));
    }

    @Test
    void threadsDoNotShareTheArray() throws Exception {
        Request.Write write = new Request.Write(new FileId(3, 1), 0, new byte[4096], 0);
        byte[] mine = codec.encodeFrameReusing(1, write).bytes();
        byte[][] theirs = new byte[1][];
        Thread other = new Thread(() -> theirs[0] = codec.encodeFrameReusing(2, write).bytes());
        other.start();
        other.join();
        assertNotSame(mine, theirs[0]);
        assertSame(mine, codec.encodeFrameReusing(3, write).bytes());
    }

    @Test
    void anArrayAboveTheBoundIsNotKept() throws Exception {
        KryoCodec big = new KryoCodec(4 << 20);
        Request.Write huge = new Request.Write(new FileId(3, 1), 0, new byte[KryoCodec.REUSED_BYTES], 0);
        byte[] once = big.encodeFrameReusing(1, huge).bytes();
        assertNotSame(once, big.encodeFrameReusing(2, huge).bytes());
    }

    @Test
    void aReusedArrayLargerThanTheFrameBoundDoesNotLetAnOversizedMessageThrough() {
        codec.encodeFrameReusing(1, new Request.Write(new FileId(3, 1), 0, new byte[64 << 10], 0));
        KryoCodec small = new KryoCodec(1024);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> small.encodeFrameReusing(2, new Request.Write(new FileId(3, 1), 0, new byte[4096], 0)));
        assertTrue(e.getMessage().startsWith("message does not fit a frame of 1024 bytes"), e.getMessage());
    }
}
