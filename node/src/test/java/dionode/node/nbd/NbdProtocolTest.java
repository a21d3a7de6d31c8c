package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The NBD front-end against a real node, spoken to by hand ({@link TestNbdClient}). */
class NbdProtocolTest {
    static final long DISK = 16 << 20;
    static NbdFixture nbd;
    static NodeServer node;
    static int port;
    static FileId diskIno;

    @BeforeAll
    static void start() throws Exception {
        nbd = NbdFixture.start(128L << 20, null);
        node = nbd.node;
        port = nbd.port;
        try (NodeClient c = nbd.client()) {
            diskIno = c.create("disk", LockPolicy.ZEROING_AWARE, 0644, true).toCompletableFuture().get().file();
            c.fallocate(diskIno, 0, DISK, false).toCompletableFuture().get();
            FileId odd = c.create("odd", LockPolicy.OVERWRITE_CHECK, 0644, true).toCompletableFuture().get().file();
            c.truncate(odd, 10_000).toCompletableFuture().get();
            FileId big = c.create("sparse-big", null, 0644, true).toCompletableFuture().get().file();
            c.truncate(big, 1L << 30).toCompletableFuture().get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (nbd != null) {
            nbd.close();
        }
    }

    static byte[] pattern(int len, long seed) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return b;
    }

    // ------------------------------------------------------------------ handshake

    @Test
    void greetingAdvertisesFixedNewstyleAndListNamesEveryFile() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, c.handshakeFlags);
            assertTrue(c.list().containsAll(Set.of("disk", "odd", "sparse-big")));
        }
    }

    @Test
    void goReportsSizeFlagsAndBlockSizes() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            TestNbdClient.Go info = c.info(Nbd.OPT_INFO, "disk", Nbd.INFO_BLOCK_SIZE, Nbd.INFO_NAME, Nbd.INFO_DESCRIPTION);
            assertEquals(0, info.errorType());
            assertEquals(DISK, info.size());
            int flags = info.flags();
            for (int f : new int[] {Nbd.FLAG_HAS_FLAGS, Nbd.FLAG_SEND_FLUSH, Nbd.FLAG_SEND_FUA, Nbd.FLAG_SEND_TRIM,
                Nbd.FLAG_SEND_WRITE_ZEROES, Nbd.FLAG_CAN_MULTI_CONN}) {
                assertEquals(f, flags & f, "flag " + f);
            }
            int sector = node.volume().device().sectorSize();
            assertArrayEquals(new int[] {sector, 4096, 8 << 20}, info.blockSizes());
            ByteBuffer name = info.infos().get(Nbd.INFO_NAME);
            assertEquals("disk", new String(name.array(), 2, name.array().length - 2, StandardCharsets.UTF_8));
            assertTrue(info.infos().containsKey(Nbd.INFO_DESCRIPTION));
            // INFO does not start transmission; GO on the same connection does
            TestNbdClient.Go go = c.go("disk");
            assertEquals(0, go.errorType());
            assertTrue(go.infos().containsKey(Nbd.INFO_BLOCK_SIZE), "block sizes are sent even when not asked");
            assertEquals(0, c.call(0, Nbd.CMD_READ, 0, 4096, null).error());
        }
    }

    @Test
    void exportSizeIsRoundedDownToTheMinimumBlock() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            int sector = node.volume().device().sectorSize();
            assertEquals(10_000 / sector * sector, c.go("odd").size());
        }
    }

    @Test
    void unknownExportIsErrUnknownAndTheConnectionStaysUsable() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            TestNbdClient.Go go = c.go("no-such-file", Nbd.INFO_BLOCK_SIZE);
            assertEquals(Nbd.REP_ERR_UNKNOWN, go.errorType());
            assertTrue(go.message().contains("no-such-file"), go.message());
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.info(Nbd.OPT_INFO, "", Nbd.INFO_BLOCK_SIZE).errorType());
            assertEquals(0, c.go("disk").errorType());
            assertEquals(0, c.call(0, Nbd.CMD_FLUSH, 0, 0, null).error());
        }
    }

    @Test
    void unsupportedOptionsAreErrUnsupAndMalformedOnesErrInvalid() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            for (int opt : new int[] {11, 4242}) {
                c.sendOption(opt, new byte[0]);
                TestNbdClient.OptReply r = c.readOptReply();
                assertEquals(opt, r.option());
                assertEquals(Nbd.REP_ERR_UNSUP, r.type(), "option " + opt);
            }
            // a node without TLS refuses STARTTLS by policy, and the haggling goes on in plain text
            c.sendOption(Nbd.OPT_STARTTLS, new byte[0]);
            assertEquals(Nbd.REP_ERR_POLICY, c.readOptReply().type());
            c.sendOption(Nbd.OPT_LIST, new byte[3]);
            assertEquals(Nbd.REP_ERR_INVALID, c.readOptReply().type());
            c.sendOption(Nbd.OPT_GO, new byte[] {0, 0, 0, 9, 'x'}); // name longer than the option
            assertEquals(Nbd.REP_ERR_INVALID, c.readOptReply().type());
            byte[] data = TestNbdClient.infoData("disk", Nbd.INFO_BLOCK_SIZE);
            c.sendOption(Nbd.OPT_GO, Arrays.copyOf(data, data.length + 1)); // info count does not match
            assertEquals(Nbd.REP_ERR_INVALID, c.readOptReply().type());
            c.sendOption(Nbd.OPT_GO, TestNbdClient.infoData("bad\0name"));
            assertEquals(Nbd.REP_ERR_INVALID, c.readOptReply().type());
            assertEquals(0, c.go("disk").errorType());
        }
    }

    @Test
    void exportNameStartsTransmissionOrClosesForAnUnknownName() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port, Nbd.FLAG_C_FIXED_NEWSTYLE)) {
            c.sendOption(Nbd.OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
            assertEquals(DISK, c.in.readLong());
            assertEquals(Nbd.FLAG_CAN_MULTI_CONN, c.in.readUnsignedShort() & Nbd.FLAG_CAN_MULTI_CONN);
            byte[] zeroes = new byte[124];
            c.in.readFully(zeroes); // NO_ZEROES not negotiated
            assertArrayEquals(new byte[124], zeroes);
            assertEquals(0, c.call(0, Nbd.CMD_READ, 0, 512, null).error());
        }
        try (TestNbdClient c = TestNbdClient.open(port)) {
            c.sendOption(Nbd.OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer(), "EXPORT_NAME cannot carry an error: the spec has the server close");
        }
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws Exception {
        try (TestNbdClient c = TestNbdClient.open(port)) {
            c.sendOption(Nbd.OPT_ABORT, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.readOptReply().type());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void badHandshakesCloseOnlyTheirConnection() throws Exception {
        try (TestNbdClient other = TestNbdClient.transmission(port, "disk")) {
            try (TestNbdClient c = TestNbdClient.open(port, 0x80)) { // unknown client flag
                assertTrue(c.closedByServer());
            }
            try (TestNbdClient c = TestNbdClient.open(port)) {
                c.out.writeLong(0x1122334455667788L); // bad option magic
                c.out.writeInt(Nbd.OPT_LIST);
                c.out.writeInt(0);
                c.out.flush();
                assertTrue(c.closedByServer());
            }
            try (TestNbdClient c = TestNbdClient.open(port)) {
                c.out.writeLong(Nbd.IHAVEOPT); // an option declaring 2 GiB of data: judged before buffering
                c.out.writeInt(Nbd.OPT_GO);
                c.out.writeInt(0x7fffffff);
                c.out.flush();
                assertTrue(c.closedByServer());
            }
            assertEquals(0, other.call(0, Nbd.CMD_READ, 0, 4096, null).error());
        }
    }

    // ------------------------------------------------------------------ transmission

    @Test
    void pipelinedWritesAndReadsComeBackByHandle() throws Exception {
        try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            int n = 64;
            int len = 8192;
            for (int i = 0; i < n; i++) {
                c.write(1000 + i, (long) i * len, pattern(len, i), 0);
            }
            c.flush();
            Set<Long> handles = new HashSet<>();
            for (int i = 0; i < n; i++) {
                TestNbdClient.SimpleReply r = c.reply();
                assertEquals(0, r.error());
                handles.add(r.handle());
            }
            assertEquals(n, handles.size());
            for (int i = 0; i < n; i++) {
                c.read(2000 + i, (long) i * len, len);
            }
            c.flush();
            for (int i = 0; i < n; i++) {
                TestNbdClient.SimpleReply r = c.reply();
                assertEquals(0, r.error());
                assertArrayEquals(pattern(len, r.handle() - 2000), r.data(), "handle " + r.handle());
            }
        }
    }

    @Test
    void sectorAlignedUnalignedWritesFuaFlushTrimAndWriteZeroes() throws Exception {
        try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            long base = 2 << 20;
            byte[] a = pattern(16384, 1);
            assertEquals(0, c.call(0, Nbd.CMD_WRITE, base, a.length, a).error());
            byte[] b = pattern(14336, 2);
            assertEquals(0, c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, base + 512, b.length, b).error());
            byte[] expect = a.clone();
            System.arraycopy(b, 0, expect, 512, b.length);
            assertArrayEquals(expect, c.call(0, Nbd.CMD_READ, base, 16384, null).data());
            assertEquals(0, c.call(0, Nbd.CMD_FLUSH, 0, 0, null).error());
            assertEquals(0, c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_FLUSH, 0, 0, null).error());

            assertEquals(0, c.call(0, Nbd.CMD_TRIM, base, 4096, null).error());
            assertArrayEquals(new byte[4096], c.call(0, Nbd.CMD_READ, base, 4096, null).data());
            assertEquals(0, c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE_ZEROES, base + 4096, 4096, null).error());
            assertEquals(0, c.call(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_WRITE_ZEROES, base + 8192 + 512, 1024, null).error());
            byte[] after = c.call(0, Nbd.CMD_READ, base, 16384, null).data();
            byte[] want = expect.clone();
            Arrays.fill(want, 0, 8192, (byte) 0);
            Arrays.fill(want, 8192 + 512, 8192 + 1536, (byte) 0);
            assertArrayEquals(want, after);
            assertEquals(0, c.call(0, Nbd.CMD_TRIM, base, 0, null).error(), "zero-length trim is a no-op");
        }
    }

    @Test
    void requestsLargerThanTheNodeMaximumAreSplit() throws Exception {
        try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            byte[] big = pattern(12 << 20, 3);
            assertEquals(0, c.call(0, Nbd.CMD_WRITE, 0, big.length, big).error());
            assertArrayEquals(big, c.call(0, Nbd.CMD_READ, 0, big.length, null).data());
        }
    }

    @Test
    void pipelinedPayloadsBeyondTheConnectionBudgetWaitAndAllComplete() throws Exception {
        try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            int n = 24;
            int len = 4 << 20; // 96 MiB in all: more than the 64 MiB budget
            for (int i = 0; i < n; i++) {
                c.write(i, (long) (i % 4) * len, pattern(len, i % 4), 0);
            }
            c.flush();
            for (int i = 0; i < n; i++) {
                assertEquals(0, c.reply().error());
            }
        }
    }

    @Test
    void badRequestsAreRefusedWithTheirErrorAndTheConnectionGoesOn() throws Exception {
        try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_READ, 256, 4096, null).error(), "offset below the minimum block");
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_WRITE, 4096, 100, new byte[100]).error(), "length below it");
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_TRIM, 4096, 1000, null).error());
            assertEquals(Nbd.ENOSPC, c.call(0, Nbd.CMD_WRITE, DISK - 4096, 8192, new byte[8192]).error(), "past the end");
            assertEquals(Nbd.ENOSPC, c.call(0, Nbd.CMD_WRITE_ZEROES, DISK, 4096, null).error());
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_READ, DISK, 4096, null).error());
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_READ, -4096, 4096, null).error(), "offset >= 2^63");
            assertEquals(Nbd.EINVAL, c.call(0, 5, 0, 4096, null).error(), "CACHE was not advertised");
            assertEquals(Nbd.EINVAL, c.call(0, 7, 0, 4096, null).error(), "BLOCK_STATUS was not negotiated");
            assertEquals(Nbd.EINVAL, c.call(0, 99, 0, 4096, null).error());
            assertEquals(Nbd.EINVAL, c.call(1 << 2, Nbd.CMD_READ, 0, 4096, null).error(), "DF without structured replies");
            assertEquals(Nbd.EINVAL, c.call(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_WRITE, 0, 512, new byte[512]).error());
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_FLUSH, 4096, 0, null).error());
            assertEquals(0, c.call(0, Nbd.CMD_READ, 0, 4096, null).error());
        }
        try (TestNbdClient c = TestNbdClient.transmission(port, "sparse-big")) {
            assertEquals(Nbd.EOVERFLOW, c.call(0, Nbd.CMD_READ, 0, 40 << 20, null).error(), "beyond the 32 MiB default");
            assertEquals(0, c.call(0, Nbd.CMD_READ, 900 << 20, 4096, null).error());
        }
    }

    @Test
    void badMagicClosesThatConnectionAfterEarlierRepliesAndNoOther() throws Exception {
        try (TestNbdClient other = TestNbdClient.transmission(port, "disk");
                TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            byte[] data = pattern(65536, 9);
            c.write(1, 8 << 20, data, 0);
            c.out.writeInt(0xdeadbeef);
            c.out.write(new byte[24]);
            c.flush();
            TestNbdClient.SimpleReply r = c.reply();
            assertEquals(1, r.handle());
            assertEquals(0, r.error());
            assertTrue(c.closedByServer());
            assertArrayEquals(data, other.call(0, Nbd.CMD_READ, 8 << 20, 65536, null).data());
        }
    }

    @Test
    void oversizedWriteClosesBeforeItsPayloadIsBuffered() throws Exception {
        try (TestNbdClient other = TestNbdClient.transmission(port, "disk");
                TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            c.request(0, Nbd.CMD_WRITE, 1, 0, 0xfffffe00L, null); // ~4 GiB declared, none sent
            c.flush();
            assertTrue(c.closedByServer());
            assertEquals(0, other.call(0, Nbd.CMD_FLUSH, 0, 0, null).error());
        }
    }

    @Test
    void discAnswersOutstandingRequestsThenCloses() throws Exception {
        try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
            for (int i = 0; i < 8; i++) {
                c.write(i, (10L << 20) + i * 4096L, pattern(4096, i), 0);
            }
            c.request(0, Nbd.CMD_DISC, 99, 0, 0, null);
            c.flush();
            Set<Long> handles = new HashSet<>();
            for (int i = 0; i < 8; i++) {
                TestNbdClient.SimpleReply r = c.reply();
                assertEquals(0, r.error());
                handles.add(r.handle());
            }
            assertEquals(8, handles.size());
            assertTrue(c.closedByServer());
        }
        try (NodeClient n = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            byte[] got = n.read(diskIno, (10L << 20) + 7 * 4096L, 4096, 0).toCompletableFuture().get();
            assertArrayEquals(pattern(4096, 7), got);
            Reply.FileStat st = n.stat(diskIno).toCompletableFuture().get();
            assertNotEquals(0, st.layout().writtenBlocks());
        }
    }

    @Test
    void clientHangingUpMidRequestDoesNotDisturbOthers() throws Exception {
        try (TestNbdClient other = TestNbdClient.transmission(port, "disk")) {
            try (TestNbdClient c = TestNbdClient.transmission(port, "disk")) {
                c.request(0, Nbd.CMD_WRITE, 1, 0, 65536, new byte[1000]); // payload cut short
                c.flush();
            }
            assertFalse(other.socket.isClosed());
            assertEquals(0, other.call(0, Nbd.CMD_READ, 0, 4096, null).error());
        }
    }
}
