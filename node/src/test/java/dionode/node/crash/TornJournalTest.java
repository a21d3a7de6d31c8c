package dionode.node.crash;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.FaultyNativeIO;
import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Torn journals of a real node (the corruption matrix of DESIGN §8 applied to the metadata log):
 * a node commits five transactions, each creating and writing one file and fsync'ing it, and then
 * loses power (no checkpoint, no clean unmount), so all five live only in the journal. Copies of
 * that image get their log cut short, zeroed, flipped or junk-ended in various places; mount must
 * replay exactly the committed prefix before the first damaged transaction, ignore everything
 * from there on, and leave fsck clean. A damaged journal superblock is a clear error at start.
 */
@Timeout(120)
class TornJournalTest {
    private static final long SIZE = 32 * Fixture.MIB;
    private static final int FILES = 5;
    private static Path image;
    private static List<RawImage.LogTxn> txns;
    private static final List<byte[]> DATA = new ArrayList<>();
    private static final List<Path> copies = new ArrayList<>();

    @BeforeAll
    static void build() throws Exception {
        image = Fixture.newDevice("torn-journal");
        FaultyNativeIO io = new FaultyNativeIO(Fixture.JNA);
        Random rnd = new Random(4);
        try (NodeServer node = Fixture.start(Fixture.config(image, SIZE, Duration.ofHours(1)), io);
                NodeClient c = Fixture.client(node)) {
            for (int k = 1; k <= FILES; k++) {
                FileId ino = join(c.create("t" + k, null, 0644, true)).file();
                byte[] d = Population.bytes(rnd, 3 * Fixture.B + 1024);
                join(c.write(ino, 0, d, 0));
                join(c.fsync(ino));
                DATA.add(d);
            }
            io.dropWritesAfter(0);
        }
        try (RawImage r = new RawImage(image)) {
            txns = r.transactions();
        }
        assertEquals(FILES, txns.size(), "one transaction per fsync in the log: " + txns);
    }

    @AfterAll
    static void remove() {
        Fixture.deleteQuietly(image);
        copies.forEach(Fixture::deleteQuietly);
    }

    /** A copy of the five-transaction image, damaged by {@code edit}. */
    private static Path damaged(String name, RawImage.Edit edit) throws IOException {
        Path copy = RawImage.editedCopy(image, name, edit);
        copies.add(copy);
        return copy;
    }

    /** Mounts and checks that exactly files t1..t{prefix} exist with their data; fsck clean before and after. */
    private static void expectPrefix(Path dev, int prefix) throws Exception {
        assertEquals(List.of(), Fixture.fsck(dev), "fsck of the damaged image (replay only)");
        try (NodeServer node = Fixture.start(Fixture.config(dev, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                NodeClient c = Fixture.client(node)) {
            TreeSet<String> names = new TreeSet<>();
            for (Reply.DirEntry e : join(c.list())) {
                names.add(e.name());
            }
            TreeSet<String> want = new TreeSet<>();
            for (int k = 1; k <= prefix; k++) {
                want.add("t" + k);
            }
            assertEquals(want, names, "the committed prefix of " + prefix + " transactions, nothing after it");
            for (int k = 1; k <= prefix; k++) {
                FileId ino = join(c.lookup("t" + k)).file();
                byte[] d = DATA.get(k - 1);
                assertEquals(d.length, join(c.stat(ino)).size());
                assertArrayEquals(d, Fixture.read(c, ino, 0, d.length));
                for (Reply.FiemapExtent x : join(c.fiemap(ino, 0, 0))) {
                    assertTrue(!x.unwritten(), "replayed conversion: " + x);
                }
            }
        }
        assertEquals(List.of(), Fixture.fsck(dev), "fsck after the restart");
    }

    private static byte[] zeros() {
        return new byte[RawImage.B];
    }

    @Test
    void intactLogReplaysEverything() throws Exception {
        expectPrefix(damaged("intact", r -> { }), FILES);
    }

    @Test
    void lastCommitRecordZeroed() throws Exception {
        RawImage.LogTxn last = txns.get(FILES - 1);
        expectPrefix(damaged("commit-zeroed", r -> r.write(r.journalBlock(last.commit()), zeros())), FILES - 1);
    }

    @Test
    void lastCommitRecordCutShort() throws Exception {
        RawImage.LogTxn last = txns.get(FILES - 1);
        expectPrefix(damaged("commit-cut", r -> {
            byte[] b = r.read(r.journalBlock(last.commit()));
            Arrays.fill(b, 512, RawImage.B, (byte) 0); // only the first sector reached the disk
            r.write(r.journalBlock(last.commit()), b);
        }), FILES - 1);
    }

    @Test
    void flippedByteInTheMiddleTransactionsImageDropsItAndEverythingAfter() throws Exception {
        RawImage.LogTxn mid = txns.get(2);
        expectPrefix(damaged("image-flip", r -> r.flip(r.journalBlock(mid.images().get(0)), 1234)), 2);
    }

    @Test
    void flippedByteInTheMiddleDescriptor() throws Exception {
        RawImage.LogTxn mid = txns.get(2);
        expectPrefix(damaged("desc-flip", r -> r.flip(r.journalBlock(mid.descriptors().get(0)), 30)), 2);
    }

    @Test
    void flippedByteInTheSecondCommitRecord() throws Exception {
        RawImage.LogTxn second = txns.get(1);
        expectPrefix(damaged("commit-flip", r -> r.flip(r.journalBlock(second.commit()), 40)), 1);
    }

    @Test
    void lastImageMissing() throws Exception {
        RawImage.LogTxn last = txns.get(FILES - 1);
        List<Long> imgs = last.images();
        expectPrefix(damaged("image-missing", r -> r.write(r.journalBlock(imgs.get(imgs.size() - 1)), zeros())), FILES - 1);
    }

    @Test
    void commitRecordOfAnotherTransaction() throws Exception {
        // the fourth commit block overwritten with the third: right CRC, wrong tid and counts
        RawImage.LogTxn third = txns.get(2);
        RawImage.LogTxn fourth = txns.get(3);
        expectPrefix(damaged("commit-swapped", r -> r.write(r.journalBlock(fourth.commit()),
                r.read(r.journalBlock(third.commit())))), 3);
    }

    @Test
    void junkAfterTheLastTransactionIsIgnored() throws Exception {
        RawImage.LogTxn last = txns.get(FILES - 1);
        expectPrefix(damaged("junk-ended", r -> {
            byte[] junk = new byte[RawImage.B];
            new Random(9).nextBytes(junk);
            for (long i = last.commit() + 1; i < last.commit() + 9; i++) {
                r.write(r.journalBlock(i), junk);
            }
        }), FILES);
    }

    @Test
    void emptyLogReplaysNothing() throws Exception {
        expectPrefix(damaged("empty", r -> {
            for (long i = 1; i <= txns.get(FILES - 1).commit(); i++) {
                r.write(r.journalBlock(i), zeros());
            }
        }), 0);
    }

    @Test
    void replayIsIdempotentWhenRecoveryItselfIsInterrupted() throws Exception {
        // recovery writes the home blocks, then resets the journal superblock; a crash between the
        // two replays again on the next mount
        Path dev = damaged("replay-twice", r -> { });
        FaultyNativeIO io = new FaultyNativeIO(Fixture.JNA);
        try (dionode.node.device.BlockDevice d = dionode.node.device.BlockDevice.open(dev, io, 0);
                RawImage r = new RawImage(dev)) {
            long journalSuperByte = r.journalBlock(0) * RawImage.B;
            io.hook((op, fd, off, count) -> {
                if (op == FaultyNativeIO.Op.PWRITE && off == journalSuperByte) {
                    throw new dionode.node.device.NativeIOException("pwrite", dev.toString(), 5, "[injected] power lost");
                }
            });
            try {
                dionode.node.fs.VolumeLoader.mount(d, dionode.node.journal.JournalOptions.defaults(), java.time.Clock.systemUTC(), false);
                throw new AssertionError("the journal superblock write was made to fail");
            } catch (IOException expected) {
                // the home blocks were written, the log still holds all five transactions
            }
            assertEquals(FILES, r.transactions().size());
        }
        expectPrefix(dev, FILES);
    }

    @Test
    void garbageJournalSuperblockIsAClearErrorAtStart() throws Exception {
        Path dev = damaged("jsb-garbage", r -> {
            byte[] junk = new byte[RawImage.B];
            new Random(3).nextBytes(junk);
            r.write(r.journalBlock(0), junk);
        });
        String why = refusal(dev);
        assertTrue(why.contains("journal superblock") && why.contains("bad magic"), why);
        assertEquals("unmountable", Fixture.fsck(dev).get(0).kind());
        Path crc = damaged("jsb-crc", r -> r.flip(r.journalBlock(0), 33));
        assertTrue(refusal(crc).contains("CRC32C mismatch"), refusal(crc));
    }

    /** The message of the node's refusal to start on {@code dev}. */
    static String refusal(Path dev) {
        try (NodeServer node = Fixture.start(Fixture.config(dev, SIZE, Duration.ofMillis(200)), Fixture.JNA)) {
            throw new AssertionError("the node started on a damaged image: " + node.address());
        } catch (IOException e) {
            return e.getMessage();
        }
    }
}
