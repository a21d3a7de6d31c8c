package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.client.NodeClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Structured replies, base:allocation and block status, spoken by hand ({@link TestNbdClient}),
 * on a file whose layout is known: hole, data, unwritten, hole, data, hole.
 */
class NbdStructuredReplyTest {
    static final long M = SparseLayout.M;
    static final long SIZE = SparseLayout.SIZE;
    static final long BIG = 64 * M;
    static final long[][] LAYOUT = SparseLayout.LAYOUT;
    static NbdFixture nbd;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        nbd = NbdFixture.start(128L << 20, null);
        port = nbd.port;
        try (NodeClient c = nbd.client()) {
            SparseLayout.create(c, "map");
            SparseLayout.empty(c, "other", SIZE);
            SparseLayout.empty(c, "big", BIG);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (nbd != null) {
            nbd.close();
        }
    }

    // ------------------------------------------------------------------ negotiation

    @Test
    void structuredRepliesAndMetaContextsAreNegotiatedAsTheSpecSays() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            byte[] meta = TestNbdClient.metaData("map", Nbd.META_BASE_ALLOCATION);
            assertNull(c.metaContext(Nbd.OPT_SET_META_CONTEXT, meta), "meta contexts need structured replies first");
            assertEquals(Nbd.REP_ERR_INVALID, c.lastError);
            c.sendOption(Nbd.OPT_STRUCTURED_REPLY, new byte[1]);
            assertEquals(Nbd.REP_ERR_INVALID, c.readOptReply().type(), "STRUCTURED_REPLY carries no data");
            assertEquals(Nbd.REP_ACK, c.structuredReplies());

            assertEquals(Map.of(0, Nbd.META_BASE_ALLOCATION), c.metaContext(Nbd.OPT_LIST_META_CONTEXT, TestNbdClient.metaData("map")));
            assertEquals(Map.of(0, Nbd.META_BASE_ALLOCATION), c.metaContext(Nbd.OPT_LIST_META_CONTEXT,
                    TestNbdClient.metaData("map", "base:")), "base: is a wildcard for LIST");
            assertEquals(Map.of(), c.metaContext(Nbd.OPT_LIST_META_CONTEXT, TestNbdClient.metaData("map", "qemu:dirty-bitmap:x")));
            assertEquals(Map.of(), c.metaContext(Nbd.OPT_SET_META_CONTEXT, TestNbdClient.metaData("map", "base:")),
                    "base: selects nothing in SET");
            assertEquals(Map.of(Negotiation.BASE_ALLOCATION_ID, Nbd.META_BASE_ALLOCATION), c.metaContext(Nbd.OPT_SET_META_CONTEXT,
                    TestNbdClient.metaData("map", "x-foo:bar", Nbd.META_BASE_ALLOCATION, "base:nope")));

            TestNbdClient.Go go = c.go("map", Nbd.INFO_BLOCK_SIZE);
            assertEquals(0, go.errorType());
            assertEquals(Nbd.FLAG_SEND_DF, go.flags() & Nbd.FLAG_SEND_DF, "DF is honoured with structured replies");
            List<TestNbdClient.Chunk> bs = c.callStructured(0, Nbd.CMD_BLOCK_STATUS, 0, SIZE, null);
            assertEquals(1, bs.size());
            assertEquals(Negotiation.BASE_ALLOCATION_ID, bs.get(0).contextId());
        }
    }

    @Test
    void withoutStructuredRepliesDfIsNotAdvertisedAndReadsAreSimple() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            TestNbdClient.Go go = c.go("map", Nbd.INFO_BLOCK_SIZE);
            assertEquals(0, go.flags() & Nbd.FLAG_SEND_DF);
            TestNbdClient.SimpleReply r = c.call(0, Nbd.CMD_READ, 0, 2 * M, null);
            assertEquals(0, r.error());
            byte[] want = java.util.Arrays.copyOf(SparseLayout.contents(), (int) (2 * M));
            assertArrayEquals(want, r.data(), "holes and unwritten blocks come back as zeros in the simple reply");
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_BLOCK_STATUS, 0, 4096, null).error());
            assertEquals(Nbd.EINVAL, c.call(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 0, 4096, null).error());
        }
    }

    @Test
    void aSelectionForAnotherExportDoesNotAllowBlockStatus() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            assertEquals(Nbd.REP_ACK, c.structuredReplies());
            c.metaContext(Nbd.OPT_SET_META_CONTEXT, TestNbdClient.metaData("other", Nbd.META_BASE_ALLOCATION));
            assertEquals(0, c.go("map").errorType());
            List<TestNbdClient.Chunk> r = c.callStructured(0, Nbd.CMD_BLOCK_STATUS, 0, 4096, null);
            assertEquals(1, r.size());
            assertEquals(Nbd.REPLY_TYPE_ERROR, r.get(0).type());
            assertEquals(Nbd.EINVAL, r.get(0).error());
            assertTrue(r.get(0).message().contains("no metadata context"), r.get(0).message());
        }
    }

    // ------------------------------------------------------------------ block status

    @Test
    void blockStatusDescribesHolesUnwrittenAndDataExactly() throws Exception {
        try (TestNbdClient c = TestNbdClient.structured(port, "map")) {
            assertEquals(rows(LAYOUT), rows(descriptors(c, 0, SIZE, 0)));
            // from inside the first data run to inside the unwritten one: clipped to the request
            assertEquals(rows(new long[][] {{M + 4096, (64 << 10) - 4096, AllocationMap.DATA},
                {M + (64 << 10), M - (64 << 10) + 4096, AllocationMap.UNWRITTEN}}), rows(descriptors(c, M + 4096, M, 0)));
            // REQ_ONE: exactly one descriptor, never longer than asked
            assertEquals(rows(new long[][] {{0, M, AllocationMap.HOLE}}), rows(descriptors(c, 0, SIZE, Nbd.CMD_FLAG_REQ_ONE)));
            assertEquals(rows(new long[][] {{0, 8192, AllocationMap.HOLE}}), rows(descriptors(c, 0, 8192, Nbd.CMD_FLAG_REQ_ONE)));
            assertEquals(rows(new long[][] {{2 * M, 4096, AllocationMap.UNWRITTEN}}),
                    rows(descriptors(c, 2 * M, 4096, Nbd.CMD_FLAG_REQ_ONE | Nbd.CMD_FLAG_FUA)));
        }
    }

    @Test
    void blockStatusCoversAtMostAWindowAndNeverPastTheRequest() throws Exception {
        try (TestNbdClient c = TestNbdClient.structured(port, "big")) {
            long window = (long) AllocationMap.WINDOW_BLOCKS * 4096;
            assertTrue(window < BIG);
            assertEquals(rows(new long[][] {{0, window, AllocationMap.HOLE}}), rows(descriptors(c, 0, BIG, 0)),
                    "the length is a hint: one window is answered");
            assertEquals(rows(new long[][] {{window, window, AllocationMap.HOLE}}), rows(descriptors(c, window, BIG - window, 0)));
            assertEquals(rows(new long[][] {{BIG - 8192, 8192, AllocationMap.HOLE}}), rows(descriptors(c, BIG - 8192, 8192, 0)));
        }
    }

    @Test
    void badBlockStatusRequestsAreErrorChunksAndTheConnectionGoesOn() throws Exception {
        try (TestNbdClient c = TestNbdClient.structured(port, "map")) {
            assertEquals(Nbd.EINVAL, error(c.callStructured(0, Nbd.CMD_BLOCK_STATUS, SIZE - 4096, 8192, null)), "past the end");
            assertEquals(Nbd.EINVAL, error(c.callStructured(0, Nbd.CMD_BLOCK_STATUS, 0, 0, null)), "no length");
            assertEquals(Nbd.EINVAL, error(c.callStructured(0, Nbd.CMD_BLOCK_STATUS, 100, 4096, null)), "unaligned");
            assertEquals(Nbd.EINVAL, error(c.callStructured(Nbd.CMD_FLAG_DF, Nbd.CMD_BLOCK_STATUS, 0, 4096, null)), "DF is a READ flag");
            assertEquals(LAYOUT.length, descriptors(c, 0, SIZE, 0).size());
        }
    }

    // ------------------------------------------------------------------ reads

    @Test
    void readsSendHolesAndUnwrittenExtentsAsHoleChunks() throws Exception {
        try (TestNbdClient c = TestNbdClient.structured(port, "map")) {
            List<TestNbdClient.Chunk> r = c.callStructured(0, Nbd.CMD_READ, 0, SIZE, null);
            List<long[]> seen = new ArrayList<>();
            for (TestNbdClient.Chunk k : r) {
                if (k.type() == Nbd.REPLY_TYPE_OFFSET_HOLE) {
                    seen.add(new long[] {k.offset(), k.holeSize(), 1});
                } else {
                    assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, k.type());
                    seen.add(new long[] {k.offset(), k.data().length, 0});
                }
            }
            // the unwritten run and the hole after it are both zeros: one hole chunk
            assertEquals(rows(new long[][] {{0, M, 1}, {M, 64 << 10, 0}, {M + (64 << 10), 4 * M - (64 << 10), 1},
                {5 * M, 128 << 10, 0}, {5 * M + (128 << 10), 3 * M - (128 << 10), 1}}), rows(seen));
            assertTrue(r.get(r.size() - 1).done());
            assertEquals(1, r.stream().filter(TestNbdClient.Chunk::done).count(), "only the last chunk is flagged done");
            assertArrayEquals(SparseLayout.FIRST, r.get(1).data());
            assertArrayEquals(SparseLayout.SECOND, r.get(3).data());
        }
    }

    @Test
    void dfReadsAreOneContentChunk() throws Exception {
        try (TestNbdClient c = TestNbdClient.structured(port, "map")) {
            List<TestNbdClient.Chunk> mixed = c.callStructured(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 0, 2 * M, null);
            assertEquals(1, mixed.size());
            assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, mixed.get(0).type(), "data and holes: one data chunk, zeros included");
            byte[] want = java.util.Arrays.copyOf(SparseLayout.contents(), (int) (2 * M));
            assertArrayEquals(want, mixed.get(0).data());
            List<TestNbdClient.Chunk> hole = c.callStructured(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 3 * M, M, null);
            assertEquals(1, hole.size());
            assertEquals(Nbd.REPLY_TYPE_OFFSET_HOLE, hole.get(0).type());
            assertEquals(M, hole.get(0).holeSize());
        }
        try (TestNbdClient c = TestNbdClient.structured(port, "big")) {
            assertEquals(Nbd.EOVERFLOW, error(c.callStructured(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 0, 16 * M, null)),
                    "one content chunk holds at most the 8 MiB maximum payload");
            List<TestNbdClient.Chunk> split = c.callStructured(0, Nbd.CMD_READ, 0, 16 * M, null);
            assertEquals(1, split.size(), "without DF the same read is one hole chunk");
            assertEquals(16 * M, split.get(0).holeSize());
        }
    }

    @Test
    void badReadsAreErrorChunksNotSimpleReplies() throws Exception {
        try (TestNbdClient c = TestNbdClient.structured(port, "map")) {
            List<TestNbdClient.Chunk> r = c.callStructured(0, Nbd.CMD_READ, 100, 4096, null);
            assertEquals(1, r.size());
            assertEquals(Nbd.REPLY_TYPE_ERROR, r.get(0).type());
            assertTrue(r.get(0).done());
            assertEquals(Nbd.EINVAL, r.get(0).error());
            assertTrue(r.get(0).message().contains("multiples"), r.get(0).message());
            assertEquals(Nbd.EINVAL, error(c.callStructured(0, Nbd.CMD_READ, SIZE, 4096, null)));
            List<TestNbdClient.Chunk> empty = c.callStructured(0, Nbd.CMD_READ, 0, 0, null);
            assertEquals(Nbd.REPLY_TYPE_NONE, empty.get(0).type());
            assertEquals(0, c.call(0, Nbd.CMD_FLUSH, 0, 0, null).error(), "other successes stay simple replies");
        }
    }

    static int error(List<TestNbdClient.Chunk> reply) {
        assertEquals(1, reply.size(), "an error is the reply's one chunk");
        assertEquals(Nbd.REPLY_TYPE_ERROR, reply.get(0).type());
        assertTrue(reply.get(0).done());
        return reply.get(0).error();
    }

    /** Block status from {@code offset}: the descriptors as (offset, length, flags), one chunk for base:allocation. */
    static List<long[]> descriptors(TestNbdClient c, long offset, long length, int flags) throws Exception {
        List<TestNbdClient.Chunk> r = c.callStructured(flags, Nbd.CMD_BLOCK_STATUS, offset, length, null);
        assertEquals(1, r.size(), "one chunk per selected context");
        TestNbdClient.Chunk k = r.get(0);
        assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS, k.type());
        assertTrue(k.done());
        assertEquals(Negotiation.BASE_ALLOCATION_ID, k.contextId());
        List<long[]> out = new ArrayList<>();
        long at = offset;
        for (long[] d : k.descriptors()) {
            out.add(new long[] {at, d[0], d[1]});
            at += d[0];
        }
        assertTrue(at <= offset + length, "never past the request");
        return out;
    }

    static String rows(long[][] rows) {
        return SparseLayout.rows(rows);
    }

    static String rows(List<long[]> rows) {
        return SparseLayout.rows(rows);
    }
}
