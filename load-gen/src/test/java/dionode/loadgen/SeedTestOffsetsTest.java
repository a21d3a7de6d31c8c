package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The write-offset generators and layout plans, without a node. */
class SeedTestOffsetsTest {
    static final long MIB = 1 << 20;

    static List<Long> drain(OffsetSource s) {
        List<Long> out = new ArrayList<>();
        for (long o; (o = s.next()) >= 0; ) {
            out.add(o);
        }
        return out;
    }

    @Test
    void test2WritesEveryStripeOnceAt16384iPlus512AndNeverLeavesTheRegion() {
        int jobs = 3;
        long region = 2 * MIB;
        Set<Long> stripes = new HashSet<>();
        for (int j = 0; j < jobs; j++) {
            long start = j * region;
            List<Long> offs = drain(OffsetSource.seed(SeedTest.TEST2, start, region));
            assertEquals(region / 16384, offs.size());
            for (int i = 0; i < offs.size(); i++) {
                long o = offs.get(i);
                assertEquals(start + 16384L * i + 512, o, "write " + i + " of job " + j);
                assertEquals(512, o % 16384);
                assertTrue(o >= start && o + SeedTest.TEST2.writeBytes() <= start + region, "inside the region");
                assertTrue(stripes.add(o / 16384), "stripe written twice");
                // head and tail partial blocks are blocks 0 and 3 of the stripe; the middle covers 1 and 2
                assertEquals(0, (o / 4096) % 4);
                assertEquals(3, ((o + 14336 - 1) / 4096) % 4);
            }
        }
        assertEquals(jobs * region / 16384, stripes.size());
        assertEquals(14336, SeedTest.TEST2.writeBytes());
    }

    @Test
    void test1WritesAligned8KiBSequentiallyOncePerRegion() {
        long region = MIB;
        List<Long> offs = drain(OffsetSource.seed(SeedTest.TEST1, 5 * region, region));
        assertEquals(128, offs.size());
        for (int i = 0; i < offs.size(); i++) {
            assertEquals(5 * region + 8192L * i, offs.get(i));
        }
        // every write covers one written (even) and one unwritten (odd) block
        for (long o : offs) {
            assertFalse(SeedTest.TEST1.unwrittenBlock(o / 4096));
            assertTrue(SeedTest.TEST1.unwrittenBlock(o / 4096 + 1));
        }
    }

    @Test
    void exhaustedSourceStaysExhausted() {
        OffsetSource s = OffsetSource.seed(SeedTest.TEST2, 0, 16384);
        assertEquals(512, s.next());
        assertEquals(-1, s.next());
        assertEquals(-1, s.next());
    }

    @Test
    void regionsMustHoldWholeStripes() {
        assertThrows(IllegalArgumentException.class, () -> SeedTest.TEST2.writesPerRegion(16384 + 4096));
        assertThrows(IllegalArgumentException.class, () -> SeedTest.TEST1.writesPerRegion(0));
    }

    @Test
    void layoutPlansWriteExactlyTheWrittenBlocks() {
        for (SeedTest t : SeedTest.values()) {
            long file = MIB;
            boolean[] written = new boolean[(int) (file / 4096)];
            for (long[] w : t.layoutWrites(file)) {
                assertEquals(0, w[0] % 4096);
                assertEquals(0, w[1] % 4096);
                assertTrue(w[1] <= t.maxLayoutWrite());
                for (long b = w[0] / 4096; b < (w[0] + w[1]) / 4096; b++) {
                    assertFalse(written[(int) b], "block written twice");
                    written[(int) b] = true;
                }
            }
            for (int b = 0; b < written.length; b++) {
                assertEquals(!t.unwrittenBlock(b), written[b], "test " + t.number() + " block " + b);
            }
        }
        // Test 2: block 3 of a stripe and block 0 of the next go in one 8 KiB write
        long[][] w2 = SeedTest.TEST2.layoutWrites(3 * 16384);
        assertEquals(4, w2.length);
        assertEquals(List.of(0L, 4096L), List.of(w2[0][0], w2[0][1]));
        assertEquals(List.of(12288L, 8192L), List.of(w2[1][0], w2[1][1]));
        assertEquals(List.of(45056L, 4096L), List.of(w2[3][0], w2[3][1]));
    }

    @Test
    void slotsStayInsideTheRegion() {
        long region = MIB;
        OffsetSource seq = OffsetSource.slots(region, region, 16384, 14336, 512, false, 1);
        for (int i = 0; i < 200; i++) {
            long o = seq.next();
            assertTrue(o >= region && o + 14336 <= 2 * region, "offset " + o);
            assertEquals(512, o % 16384);
        }
        OffsetSource rnd = OffsetSource.slots(0, region, 8192, 8192, 0, true, 7);
        for (int i = 0; i < 1000; i++) {
            long o = rnd.next();
            assertTrue(o >= 0 && o + 8192 <= region && o % 8192 == 0);
        }
        // an offset that would push the last slot over the end drops that slot
        OffsetSource tight = OffsetSource.slots(0, 16384, 8192, 8192, 512, false, 1);
        assertEquals(512, tight.next());
        assertEquals(512, tight.next()); // one slot only: wraps
    }
}
