package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.client.NodeClient;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Malformed option and command lengths under structured replies, from a fixed seed: every one is
 * answered as the spec says (an option error, an error chunk) with the connection kept, or, where
 * nothing can be answered (an option longer than any legal one, a WRITE beyond 32 MiB), closes
 * that connection only; a connection opened before keeps being served throughout, and every reply
 * that comes back is well formed.
 */
class NbdStructuredFuzzTest {
    static final long SIZE = 16 << 20;
    static NbdFixture nbd;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        nbd = NbdFixture.start(128L << 20, null);
        port = nbd.port;
        try (NodeClient c = nbd.client()) {
            SparseLayout.create(c, "map");
            SparseLayout.empty(c, "fuzz", SIZE);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (nbd != null) {
            nbd.close();
        }
    }

    /** The bystander: a block status and a read of the layout file, answered in full. */
    static void stillServed(TestNbdClient other) throws Exception {
        List<long[]> d = NbdStructuredReplyTest.descriptors(other, 0, SparseLayout.SIZE, 0);
        assertEquals(SparseLayout.rows(SparseLayout.LAYOUT), SparseLayout.rows(d));
        List<TestNbdClient.Chunk> r = other.callStructured(0, Nbd.CMD_READ, SparseLayout.M, 64 << 10, null);
        assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, r.get(0).type());
    }

    // ------------------------------------------------------------------ options

    /** A LIST or SET_META_CONTEXT payload broken in one of the ways the spec says is NBD_REP_ERR_INVALID (or TOO_BIG). */
    static byte[] brokenMeta(Random rnd) {
        byte[] good = TestNbdClient.metaData("map", Nbd.META_BASE_ALLOCATION, "base:");
        ByteBuffer b = ByteBuffer.wrap(good.clone());
        int nameEnd = 4 + 3;
        switch (rnd.nextInt(6)) {
            case 0 -> b.putInt(0, good.length - 4 + 1 + rnd.nextInt(Integer.MAX_VALUE - good.length)); // name runs past
            case 1 -> b.putInt(nameEnd, 3 + rnd.nextInt(1 << 30)); // more queries than there are
            case 2 -> b.putInt(nameEnd + 4, good.length + rnd.nextInt(1 << 20)); // a query runs past
            case 3 -> {
                byte[] longer = Arrays.copyOf(good, good.length + 1 + rnd.nextInt(100)); // junk after the last query
                return longer;
            }
            case 4 -> {
                return Arrays.copyOf(good, 1 + rnd.nextInt(good.length - 1)); // cut short anywhere
            }
            default -> {
                byte[] name = new byte[4097 + rnd.nextInt(100)]; // a name longer than the spec's strings
                Arrays.fill(name, (byte) 'a');
                return ByteBuffer.allocate(4 + name.length + 4).putInt(name.length).put(name).putInt(0).array();
            }
        }
        return b.array();
    }

    /** An INFO or GO payload whose lengths do not add up. */
    static byte[] brokenInfo(Random rnd) {
        byte[] good = TestNbdClient.infoData("map", Nbd.INFO_BLOCK_SIZE);
        ByteBuffer b = ByteBuffer.wrap(good.clone());
        return switch (rnd.nextInt(3)) {
            case 0 -> b.putInt(0, good.length - 6 + 1 + rnd.nextInt(1 << 20)).array(); // name runs past
            case 1 -> b.putShort(4 + 3, (short) (2 + rnd.nextInt(1000))).array(); // more info requests than sent
            default -> Arrays.copyOf(good, 1 + rnd.nextInt(good.length - 1));
        };
    }

    @Test
    void malformedOptionLengthsAreRefusedOrCloseOnlyTheirConnection() throws Exception {
        Random rnd = new Random(17);
        try (TestNbdClient other = TestNbdClient.structured(port, "map")) {
            for (int i = 0; i < 150; i++) {
                try (TestNbdClient c = TestNbdClient.open(port)) {
                    assertEquals(Nbd.REP_ACK, c.structuredReplies());
                    int kind = rnd.nextInt(10);
                    if (kind == 0) {
                        // an option longer than any legal one: judged from its header, nothing is buffered
                        c.out.writeLong(Nbd.IHAVEOPT);
                        c.out.writeInt(rnd.nextBoolean() ? Nbd.OPT_SET_META_CONTEXT : Nbd.OPT_GO);
                        c.out.writeInt(NbdDecoder.MAX_OPTION_BYTES + 1 + rnd.nextInt(Integer.MAX_VALUE - NbdDecoder.MAX_OPTION_BYTES));
                        c.flush();
                        assertTrue(c.closedByServer(), "case " + i);
                    } else {
                        int option;
                        byte[] data;
                        if (kind <= 6) {
                            option = rnd.nextBoolean() ? Nbd.OPT_SET_META_CONTEXT : Nbd.OPT_LIST_META_CONTEXT;
                            data = brokenMeta(rnd);
                        } else if (kind <= 8) {
                            option = rnd.nextBoolean() ? Nbd.OPT_GO : Nbd.OPT_INFO;
                            data = brokenInfo(rnd);
                        } else {
                            option = Nbd.OPT_STRUCTURED_REPLY;
                            data = new byte[1 + rnd.nextInt(64)];
                        }
                        c.sendOption(option, data);
                        TestNbdClient.OptReply r = c.readOptReply();
                        assertEquals(option, r.option());
                        assertTrue(r.type() == Nbd.REP_ERR_INVALID || r.type() == Nbd.REP_ERR_TOO_BIG,
                                "case " + i + ": reply type 0x" + Integer.toHexString(r.type()) + " " + r.text());
                        assertTrue(r.data().length > 0, "an error says why");
                        // the connection goes on: a good selection, GO, and block status work
                        assertNotNull(c.metaContext(Nbd.OPT_SET_META_CONTEXT, TestNbdClient.metaData("map", Nbd.META_BASE_ALLOCATION)));
                        assertEquals(0, c.go("map").errorType());
                        assertEquals(SparseLayout.LAYOUT.length, NbdStructuredReplyTest.descriptors(c, 0, SparseLayout.SIZE, 0).size());
                    }
                }
                if (i % 10 == 0) {
                    stillServed(other);
                }
            }
            stillServed(other);
        }
    }

    // ------------------------------------------------------------------ commands

    static final int[] TYPES = {Nbd.CMD_READ, Nbd.CMD_WRITE, Nbd.CMD_FLUSH, Nbd.CMD_TRIM, 5, Nbd.CMD_WRITE_ZEROES,
        Nbd.CMD_BLOCK_STATUS, 8, 9, 12, 0x7fff, 0xffff};

    static long offset(Random rnd) {
        return switch (rnd.nextInt(7)) {
            case 0 -> 0;
            case 1 -> 4096L * rnd.nextInt((int) (SIZE / 4096));
            case 2 -> 1 + rnd.nextInt(1 << 20); // unaligned
            case 3 -> SIZE;
            case 4 -> SIZE - 4096;
            case 5 -> Long.MIN_VALUE + rnd.nextInt(1 << 20) * 4096L; // >= 2^63 on the wire
            default -> rnd.nextLong();
        };
    }

    static long length(Random rnd) {
        return switch (rnd.nextInt(8)) {
            case 0 -> 0;
            case 1 -> 512;
            case 2 -> 4096L * (1 + rnd.nextInt(256));
            case 3 -> SIZE;
            case 4 -> Nbd.DEFAULT_CLIENT_MAX;
            case 5 -> Nbd.DEFAULT_CLIENT_MAX + 512;
            case 6 -> 0xffffffffL;
            default -> Integer.toUnsignedLong(rnd.nextInt());
        };
    }

    /** Checks a reply is well formed for what was asked: a READ's content covers exactly its range, block status stays inside it. */
    static void assertWellFormed(List<TestNbdClient.Chunk> reply, int type, int flags, long offset, long length, String what) {
        boolean error = reply.stream().anyMatch(k -> k.type() == Nbd.REPLY_TYPE_ERROR
                || k.type() == TestNbdClient.SIMPLE && k.body().getInt(0) != 0);
        for (TestNbdClient.Chunk k : reply) {
            assertEquals(77, k.handle(), what);
            if (k.type() == Nbd.REPLY_TYPE_ERROR) {
                assertNotEquals(0, k.error(), what);
                assertEquals(6 + k.message().getBytes(java.nio.charset.StandardCharsets.UTF_8).length, k.payload().length, what);
            }
        }
        assertEquals(1, reply.stream().filter(TestNbdClient.Chunk::done).count(), what);
        if (type == Nbd.CMD_READ) {
            assertTrue(reply.stream().noneMatch(k -> k.type() == TestNbdClient.SIMPLE), "never a simple reply to a READ: " + what);
            if (!error) {
                long at = offset;
                for (TestNbdClient.Chunk k : reply) {
                    if (k.type() == Nbd.REPLY_TYPE_NONE) {
                        continue;
                    }
                    assertEquals(at, k.offset(), what);
                    boolean hole = k.type() == Nbd.REPLY_TYPE_OFFSET_HOLE;
                    long n = hole ? k.holeSize() : k.data().length;
                    // a data chunk's bytes are a variable-length portion: at most the maximum payload; a hole's size is not
                    assertTrue(n > 0 && (hole || n <= 8 << 20), what);
                    at += n;
                }
                assertEquals(offset + length, at, what);
                if ((flags & Nbd.CMD_FLAG_DF) != 0) {
                    assertTrue(reply.stream().filter(k -> k.type() != Nbd.REPLY_TYPE_NONE).count() <= 1, what);
                }
            }
        } else if (type == Nbd.CMD_BLOCK_STATUS && !error) {
            assertEquals(1, reply.size(), what);
            List<long[]> d = reply.get(0).descriptors();
            assertTrue(!d.isEmpty() && ((flags & Nbd.CMD_FLAG_REQ_ONE) == 0 || d.size() == 1), what);
            long sum = 0;
            for (long[] e : d) {
                assertTrue(e[0] > 0, what);
                sum += e[0];
            }
            assertTrue(sum <= length, what);
        }
    }

    @Test
    void malformedCommandLengthsGetErrorChunksOrCloseOnlyTheirConnection() throws Exception {
        Random rnd = new Random(17);
        int closed = 0;
        int errors = 0;
        try (TestNbdClient other = TestNbdClient.structured(port, "map")) {
            TestNbdClient c = TestNbdClient.structured(port, "fuzz");
            try {
                for (int i = 0; i < 400; i++) {
                    int type = TYPES[rnd.nextInt(TYPES.length)];
                    int flags = rnd.nextInt(4) == 0 ? rnd.nextInt(1 << 16) : rnd.nextInt(16);
                    long offset = offset(rnd);
                    long length = length(rnd);
                    String what = "case " + i + ": type " + type + " flags 0x" + Integer.toHexString(flags) + " offset " + offset
                            + " length " + length;
                    if (type == Nbd.CMD_WRITE && length > Nbd.DEFAULT_CLIENT_MAX) {
                        c.request(flags, type, 77, offset, length, null); // its payload is never sent, nor read
                        c.flush();
                        assertTrue(c.closedByServer(), what);
                        c.close();
                        closed++;
                        stillServed(other);
                        c = TestNbdClient.structured(port, "fuzz");
                        continue;
                    }
                    if (type == Nbd.CMD_WRITE && length > (1 << 20)) {
                        length = 4096L * (1 + rnd.nextInt(256)); // within the limit: keep the sends small
                    }
                    byte[] payload = type == Nbd.CMD_WRITE ? new byte[(int) length] : null;
                    List<TestNbdClient.Chunk> reply;
                    c.request(flags, type, 77, offset, length, payload);
                    c.flush();
                    reply = c.anyReply();
                    assertWellFormed(reply, type, flags, offset, length, what);
                    if (reply.stream().anyMatch(k -> k.type() == Nbd.REPLY_TYPE_ERROR)) {
                        errors++;
                    }
                    if (i % 25 == 0) {
                        stillServed(other);
                    }
                }
                assertEquals(0, c.call(0, Nbd.CMD_FLUSH, 0, 0, null).error(), "the fuzzed connection still works");
            } finally {
                c.close();
            }
            stillServed(other);
        }
        assertTrue(closed > 0 && errors > 100, closed + " closed, " + errors + " error chunks");
    }
}
