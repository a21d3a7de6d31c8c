package dionode.node.fs;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.node.crash.Population;
import dionode.node.crash.RawImage;
import dionode.node.device.BlockDevice;
import dionode.node.device.FaultyNativeIO;
import dionode.node.fs.CorruptImageTest.FsckResult;
import dionode.node.journal.JournalOptions;
import dionode.node.meta.Layout;
import dionode.node.meta.MetadataCorruptException;
import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 10 item 11: the journal's home blocks. A node commits a transaction and loses power, so it
 * lives only in the log; copies of that image get the transaction's first home pointed, with the
 * descriptor resealed, at the superblock, at a journal block, and past the device end. fsck (the
 * CLI) must refuse each naming the block and its region, the node must refuse to start with the
 * same message, nothing may be written, and a second fsck must find the same: the device is still
 * readable. And fsck reads back what a replay wrote instead of trusting what it read before.
 */
@Timeout(120)
class JournalHomeTest {
    private static final long SIZE = 32 * Fixture.MIB;
    private static Path image;
    private static Layout layout;
    private static RawImage.LogTxn txn;
    private static final List<Path> copies = new ArrayList<>();

    @BeforeAll
    static void build() throws Exception {
        image = Fixture.newDevice("journal-home");
        FaultyNativeIO io = new FaultyNativeIO(Fixture.JNA);
        try (NodeServer node = Fixture.start(Fixture.config(image, SIZE, Duration.ofHours(1)), io);
                NodeClient c = Fixture.client(node)) {
            FileId ino = join(c.create("f", null, 0644, true)).file();
            join(c.write(ino, 0, Population.bytes(new Random(11), 3 * Fixture.B), 0));
            join(c.fsync(ino));
            io.dropWritesAfter(0);
        }
        try (RawImage r = new RawImage(image)) {
            layout = r.layout();
            List<RawImage.LogTxn> txns = r.transactions();
            assertEquals(1, txns.size(), "the fsync's transaction is in the log, not yet home: " + txns);
            txn = txns.get(0);
        }
    }

    @AfterAll
    static void remove() {
        Fixture.deleteQuietly(image);
        copies.forEach(Fixture::deleteQuietly);
    }

    private static Path copy(String name, long home) throws IOException {
        Path p = RawImage.editedCopy(image, name, r -> r.setHome(txn, 0, home));
        copies.add(p);
        return p;
    }

    private static byte[] digest(Path p) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
    }

    private static void refused(String name, long home, String region) throws Exception {
        Path dev = copy(name, home);
        byte[] before = digest(dev);
        String names = "names home block " + home + ", which is " + region;

        FsckResult first = FsckResult.run(dev);
        assertEquals(8, first.exit(), name + ": fsck cannot mount it\n" + first.out());
        assertTrue(first.out().contains("\"kind\":\"unmountable\"") && first.out().contains(names), first.out());
        assertArrayEquals(before, digest(dev), name + ": fsck wrote nothing");

        String why = CorruptImageTest.refusal(dev);
        assertTrue(why.contains(names), name + ": the node refuses with the same message: " + why);
        assertArrayEquals(before, digest(dev), name + ": the refused mount wrote nothing");

        FsckResult second = FsckResult.run(dev);
        assertEquals(first, second, name + ": a second fsck reads the device and finds the same");
        try (RawImage r = new RawImage(dev)) {
            assertEquals(layout, r.layout(), "the superblock is intact");
        }
    }

    @Test
    void aHomeInTheSuperblockIsRefusedAndTheDeviceStaysReadable() throws Exception {
        refused("home-superblock", 0, "in the superblock [0, 1), where the journal never writes; the journal may log"
                + " only the inode table [" + layout.inodeTableStart() + ", " + layout.bitmapStart() + "), the allocation"
                + " bitmaps [" + layout.bitmapStart() + ", " + layout.dataStart() + "), the data area ["
                + layout.dataStart() + ", " + layout.totalBlocks() + ")");
    }

    @Test
    void aHomeInTheJournalIsRefused() throws Exception {
        refused("home-journal", layout.journalStart() + layout.journalBlocks() / 2, "inside the journal area");
    }

    @Test
    void aHomePastTheDeviceEndIsRefused() throws Exception {
        refused("home-past-end", layout.totalBlocks(), "outside the device of " + layout.totalBlocks() + " blocks");
    }

    @Test
    void theImageWithItsRealHomesReplaysAndIsClean() throws Exception {
        Path dev = copy("home-real", txn.homes().get(0));
        FsckResult r = FsckResult.run(dev);
        assertEquals(0, r.exit(), r.out());
    }

    /** A superblock destroyed while replay runs (as a home of 0 once did) is found by reading it back. */
    @Test
    void fsckReadsBackTheSuperblockAfterReplay() throws Exception {
        Path dev = copy("home-readback", txn.homes().get(0));
        FaultyNativeIO io = new FaultyNativeIO(Fixture.JNA);
        long journalSuper = layout.journalStart() * (long) Fixture.B;
        try (BlockDevice d = BlockDevice.open(dev, io, 0); RawImage raw = new RawImage(dev)) {
            // replay's last step resets the journal superblock: by then block 0 is zeros
            io.hook((op, fd, off, count) -> {
                if (op == FaultyNativeIO.Op.PWRITE && off == journalSuper) {
                    try {
                        raw.write(0, new byte[Fixture.B]);
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                }
            });
            MetadataCorruptException e = assertThrows(MetadataCorruptException.class,
                    () -> VolumeLoader.mount(d, JournalOptions.defaults(), Clock.systemUTC(), true));
            assertTrue(e.getMessage().startsWith("after journal replay: not a dionode device: block 0 starts with zeros"),
                    e.getMessage());
        }
    }
}
