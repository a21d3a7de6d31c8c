package dionode.node.journal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Recovery against a corruption matrix (BookKeeper/Ratis/Kafka style). Every case starts
 * from the same log, written by a real journal and then crashed:
 *
 * <pre>
 * log block   1      2      3       4      5      6      7        8 ...
 *           +------+------+-------+------+------+------+--------+------
 *           | D T1 | 100  | C T1  | D T2 | 100  | 101  | C T2   | zeros
 *           |      | v1   |       |      | v2   | v2   |        |
 *           +------+------+-------+------+------+------+--------+------
 * </pre>
 *
 * and damages it in one way. A damaged T2 must leave exactly T1 replayed (100 = v1, 101
 * untouched); a damaged journal superblock must stop the mount with a clear message.
 */
class JournalRecoveryMatrixTest extends JournalTestSupport {

    private Path device;
    private long t1;

    private void prepare() throws Exception {
        device = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(device, JNA);
        Journal j = start(dev, quiet());
        t1 = change(j, 1, 100);
        j.commit().get(10, SECONDS);
        change(j, 2, 100, 101);
        j.commit().get(10, SECONDS);
        j.halt();
        dev.close();
    }

    /** Applies {@code damage} to journal block {@code index} (log block index; 0 = superblock). */
    private void damage(long index, Consumer<ByteBuffer> damage) throws IOException {
        BlockDevice dev = openDevice(device, JNA);
        byte[] b = readBlock(dev, J_START + index);
        damage.accept(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
        writeBlock(dev, J_START + index, b);
        dev.close();
    }

    private void copyBlock(long fromIndex, long toIndex) throws IOException {
        BlockDevice dev = openDevice(device, JNA);
        writeBlock(dev, J_START + toIndex, readBlock(dev, J_START + fromIndex));
        dev.close();
    }

    private static void reseal(ByteBuffer b) {
        JournalFormat.sealBlock(b);
    }

    private ReplayResult recover() throws IOException {
        BlockDevice dev = openDevice(device, JNA);
        return Journal.recover(dev, J_START, J_BLOCKS);
    }

    private void assertOnlyT1(ReplayResult r, String reasonPart) throws IOException {
        assertEquals(1, r.transactions(), r.toString());
        assertEquals(t1, r.lastTid());
        assertEquals(4, r.endBlock(), r.toString());
        assertTrue(r.endReason().contains(reasonPart), r.endReason());
        BlockDevice dev = openDevice(device, JNA);
        assertHome(dev, 100, 1);
        assertZero(dev, 101);
        // And recovery is idempotent: the reset log replays nothing more.
        assertEquals(0, Journal.recover(dev, J_START, J_BLOCKS).transactions());
        assertHome(dev, 100, 1);
    }

    @Test
    void intactLogReplaysBoth() throws Exception {
        prepare();
        ReplayResult r = recover();
        assertEquals(2, r.transactions(), r.toString());
        assertEquals(8, r.endBlock());
        assertEquals(3, r.imagesReplayed());
        assertEquals(2, r.blocksWritten());
        BlockDevice dev = openDevice(device, JNA);
        assertHome(dev, 100, 2);
        assertHome(dev, 101, 2);
    }

    @Test
    void emptyLog() throws Exception {
        device = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(device, JNA);
        Journal.format(dev, J_START, J_BLOCKS);
        ReplayResult r = Journal.recover(dev, J_START, J_BLOCKS);
        assertEquals(0, r.transactions());
        assertEquals(1, r.endBlock());
        assertEquals(-1, r.firstTid());
        assertEquals(0, r.blocksWritten());
    }

    @Test
    void reformatLeavesNothingOfTheOldLog() throws Exception {
        prepare();
        BlockDevice dev = openDevice(device, JNA);
        Journal.format(dev, J_START, J_BLOCKS);
        assertEquals(0, Journal.recover(dev, J_START, J_BLOCKS).transactions());
        assertZero(dev, 100);
    }

    @Test
    void headerOnlyDescriptorWithoutCommit() throws Exception {
        prepare();
        for (long i = 5; i <= 7; i++) {
            damage(i, b -> Arrays.fill(b.array(), (byte) 0));
        }
        assertOnlyT1(recover(), "CRC mismatch"); // the zeroed image no longer matches its tag
    }

    @Test
    void commitBlockZeroed() throws Exception {
        prepare();
        damage(7, b -> Arrays.fill(b.array(), (byte) 0));
        assertOnlyT1(recover(), "no commit block");
    }

    @Test
    void commitBlockCutShort() throws Exception {
        prepare();
        // Only the first sector of the commit block reached the device.
        damage(7, b -> Arrays.fill(b.array(), 512, BS, (byte) 0));
        assertOnlyT1(recover(), "commit block CRC mismatch");
    }

    @Test
    void oneFlippedByteInAnImage() throws Exception {
        prepare();
        damage(6, b -> b.array()[1234] ^= 0x01);
        assertOnlyT1(recover(), "image 1 (home 101) CRC mismatch");
    }

    @Test
    void oneFlippedByteInADescriptor() throws Exception {
        prepare();
        damage(4, b -> b.array()[JournalFormat.D_TAGS + 3] ^= 0x40);
        assertOnlyT1(recover(), "descriptor CRC mismatch");
    }

    @Test
    void truncatedTagCount() throws Exception {
        prepare();
        // A descriptor that checks but promises one image fewer: the commit is not where it says.
        damage(4, b -> {
            b.putInt(JournalFormat.D_TAG_COUNT, 1);
            reseal(b);
        });
        assertOnlyT1(recover(), "no commit block");
    }

    @Test
    void absurdTagCounts() throws Exception {
        for (int bad : new int[] {0, -1, JournalFormat.TAGS_PER_DESCRIPTOR + 1, Integer.MAX_VALUE}) {
            prepare();
            damage(4, b -> {
                b.putInt(JournalFormat.D_TAG_COUNT, bad);
                reseal(b);
            });
            assertOnlyT1(recover(), "tag count");
        }
    }

    @Test
    void staleTransactionWithAnOldTidAfterAValidOne() throws Exception {
        prepare();
        // A copy of T1 (an older tid, as left by an earlier pass over the log) right after T2.
        for (long i = 1; i <= 3; i++) {
            copyBlock(i, 7 + i);
        }
        ReplayResult r = recover();
        assertEquals(2, r.transactions(), r.toString());
        assertTrue(r.endReason().contains("descriptor tid " + t1), r.endReason());
        BlockDevice dev = openDevice(device, JNA);
        assertHome(dev, 100, 2); // not rolled back to T1's image
    }

    @Test
    void junkAfterTheLastTransaction() throws Exception {
        prepare();
        Random rnd = new Random(42);
        damage(8, b -> rnd.nextBytes(b.array()));
        ReplayResult r = recover();
        assertEquals(2, r.transactions());
        assertEquals(8, r.endBlock());
    }

    @Test
    void commitWithWrongTid() throws Exception {
        prepare();
        damage(7, b -> {
            b.putLong(JournalFormat.C_TID, t1);
            reseal(b);
        });
        assertOnlyT1(recover(), "commit tid");
    }

    @Test
    void checksummedTransactionPointingIntoTheJournalIsCorruption() throws Exception {
        prepare();
        damage(4, b -> {
            b.putLong(JournalFormat.D_TAGS + JournalFormat.TAG_HOME, J_START + 5);
            reseal(b);
        });
        JournalCorruptException e = assertThrows(JournalCorruptException.class, this::recover);
        assertTrue(e.getMessage().contains("inside the journal area"), e.getMessage());
    }

    @Test
    void checksummedHomesOutsideTheLoggableRegionsAreCorruptionAndNothingIsWritten() throws Exception {
        // the device as a file system would lay it out: [0, 8) written directly, the journal, then
        // loggable metadata [72, 400), and blocks [400, 512) past the file system's end
        HomeRegions fs = new HomeRegions(java.util.List.of(
                new HomeRegions.Region("the superblock", 0, J_START, false),
                new HomeRegions.Region("the journal", J_START, J_START + J_BLOCKS, false),
                new HomeRegions.Region("the metadata", J_START + J_BLOCKS, 400, true)));
        prepare();
        try (BlockDevice dev = openDevice(device, JNA)) {
            assertEquals(2, Journal.recover(dev, J_START, J_BLOCKS, fs).transactions(), "homes 100, 101 are loggable");
        }
        // {log block of the descriptor to edit, home}: T1's first tag to the superblock, T2's past the end
        for (long[] c : new long[][] {{1, 0}, {4, 450}}) {
            prepare();
            long home = c[1];
            damage(c[0], b -> {
                b.putLong(JournalFormat.D_TAGS + JournalFormat.TAG_HOME, home);
                reseal(b);
            });
            BlockDevice dev = openDevice(device, JNA);
            JournalCorruptException e = assertThrows(JournalCorruptException.class,
                    () -> Journal.recover(dev, J_START, J_BLOCKS, fs));
            assertTrue(e.getMessage().contains("names home block " + home + ", which is "
                    + (home == 0 ? "in the superblock [0, 8), where the journal never writes"
                            : "past the last block 399 of the file system")), e.getMessage());
            assertTrue(e.getMessage().contains("may log only the metadata [72, 400)"), e.getMessage());
            // the whole log was judged before any write: not even T1 went home
            assertZero(dev, 0);
            assertZero(dev, 100);
            assertZero(dev, 450);
            assertThrows(JournalCorruptException.class, () -> Journal.recover(dev, J_START, J_BLOCKS, fs),
                    "the log was not reset either: the refusal stands");
        }
    }

    @Test
    void badSuperblockCrc() throws Exception {
        prepare();
        damage(0, b -> b.array()[100] ^= 0x01);
        JournalCorruptException e = assertThrows(JournalCorruptException.class, this::recover);
        assertTrue(e.getMessage().contains("journal superblock") && e.getMessage().contains("CRC32C mismatch"),
                e.getMessage());
        BlockDevice dev = openDevice(device, JNA);
        assertThrows(JournalCorruptException.class, () -> Journal.open(dev, J_START, J_BLOCKS, quiet(), clock));
    }

    @Test
    void badSuperblockMagicAndGeometry() throws Exception {
        prepare();
        BlockDevice dev = openDevice(device, JNA);
        JournalCorruptException wrongLength = assertThrows(JournalCorruptException.class,
                () -> Journal.recover(dev, J_START, J_BLOCKS + 8));
        assertTrue(wrongLength.getMessage().contains("length"), wrongLength.getMessage());
        dev.close();
        damage(0, b -> b.putInt(JournalFormat.SB_MAGIC, 0x12345678));
        JournalCorruptException e = assertThrows(JournalCorruptException.class, this::recover);
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
    }
}
