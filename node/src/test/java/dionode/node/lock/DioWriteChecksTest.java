package dionode.node.lock;

import static dionode.node.lock.LockMode.EXCLUSIVE;
import static dionode.node.lock.LockMode.SHARED;
import static dionode.protocol.LockPolicy.ALIGNED_SHARED;
import static dionode.protocol.LockPolicy.OVERWRITE_CHECK;
import static dionode.protocol.LockPolicy.ZEROING_AWARE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.extent.Extent;
import dionode.node.extent.ExtentNodeStore;
import dionode.node.extent.ExtentTree;
import dionode.node.lock.LockDecision.Rule;
import dionode.protocol.LockPolicy;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each layout of the issue, under each policy: the lock, the drain and the force-wait ext4 would choose. */
class DioWriteChecksTest {
    private static final int BITS = 12;
    private static final int B = 4096;
    private static final long P = 10_000;

    private final ExtentTree tree = new ExtentTree(1, ExtentTree.emptyRoot(), new ExtentNodeStore() {
        final Map<Long, byte[]> m = new HashMap<>();
        long next = 1;

        @Override
        public byte[] node(long blk) {
            return m.get(blk);
        }

        @Override
        public byte[] modify(long blk) {
            return m.get(blk);
        }

        @Override
        public long allocateNode(long goal) {
            m.put(next, new byte[4096]);
            return next++;
        }

        @Override
        public void freeNode(long blk) {
            m.remove(blk);
        }
    });

    /** Lays out blocks from 0 by letters: W written, U unwritten, '.' hole; physically contiguous. */
    private void layout(String pattern) {
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '.') {
                tree.insert(new Extent(i, 1, P + i, c == 'U'));
            }
        }
    }

    private LockDecision decide(long off, long len, long size, boolean nosec, LockPolicy policy) {
        return DioWriteChecks.decide(off, len, false, size, size, nosec, BITS, tree::map, policy);
    }

    private static void expect(LockDecision d, LockMode mode, Rule rule, boolean drain, boolean forceWait) {
        assertEquals(mode, d.mode(), d.toString());
        assertEquals(rule, d.rule(), d.toString());
        assertEquals(drain, d.inodeDioWait(), "inode_dio_wait " + d);
        assertEquals(forceWait, d.forceWait(), "force wait " + d);
        assertFalse(d.eagain());
    }

    @Test
    void alignedWriteOverWrittenAndUnwritten() { // the seed's Test 1 write
        layout("WUWU");
        expect(decide(0, 2 * B, 4 * B, true, OVERWRITE_CHECK), EXCLUSIVE, Rule.NOT_OVERWRITE, false, false);
        expect(decide(0, 2 * B, 4 * B, true, ALIGNED_SHARED), SHARED, Rule.ALIGNED, false, false);
        expect(decide(0, 2 * B, 4 * B, true, ZEROING_AWARE), SHARED, Rule.ALIGNED, false, false);
    }

    @Test
    void alignedWriteOverHole() {
        layout("..WW");
        expect(decide(0, B, 4 * B, true, OVERWRITE_CHECK), EXCLUSIVE, Rule.NOT_OVERWRITE, false, false);
        expect(decide(0, B, 4 * B, true, ALIGNED_SHARED), SHARED, Rule.ALIGNED, false, false);
        expect(decide(0, B, 4 * B, true, ZEROING_AWARE), SHARED, Rule.ALIGNED, false, false);
    }

    @Test
    void unalignedWriteWithWrittenHeadTailAndUnwrittenMiddle() { // the seed's Test 2 write
        layout("WUUW");
        expect(decide(512, 14336, 4 * B, true, OVERWRITE_CHECK), EXCLUSIVE, Rule.NOT_OVERWRITE, true, true);
        expect(decide(512, 14336, 4 * B, true, ALIGNED_SHARED), EXCLUSIVE, Rule.NOT_OVERWRITE, true, true);
        expect(decide(512, 14336, 4 * B, true, ZEROING_AWARE), SHARED, Rule.UNALIGNED_NO_ZEROING, false, false);
    }

    @Test
    void unalignedWriteWithHoleInMiddleAndWrittenEnds() {
        layout("W..W");
        expect(decide(512, 14336, 4 * B, true, ZEROING_AWARE), SHARED, Rule.UNALIGNED_NO_ZEROING, false, false);
        expect(decide(512, 14336, 4 * B, true, ALIGNED_SHARED), EXCLUSIVE, Rule.NOT_OVERWRITE, true, true);
    }

    @Test
    void unalignedWriteWithUnwrittenHead() {
        layout("UWWW");
        for (LockPolicy p : LockPolicy.values()) {
            LockDecision d = decide(512, 14336, 4 * B, true, p);
            expect(d, EXCLUSIVE, p == ZEROING_AWARE ? Rule.NEEDS_ZEROING : Rule.NOT_OVERWRITE, true, true);
        }
    }

    @Test
    void unalignedWriteWithHoleTail() {
        layout("WWW.");
        expect(decide(512, 14336, 4 * B, true, ZEROING_AWARE), EXCLUSIVE, Rule.NEEDS_ZEROING, true, true);
    }

    @Test
    void unalignedPureOverwriteIsSharedEverywhere() {
        layout("WWWW");
        for (LockPolicy p : LockPolicy.values()) {
            LockDecision d = decide(512, 14336, 4 * B, true, p);
            assertEquals(SHARED, d.mode(), p + " " + d);
            assertFalse(d.forceWait());
        }
    }

    @Test
    void twoDiscontiguousWrittenExtentsNeedExclusiveOnlyBeforeTheSeries() {
        tree.insert(new Extent(0, 1, P, false));
        tree.insert(new Extent(1, 1, P + 7, false));
        expect(decide(0, 2 * B, 2 * B, true, OVERWRITE_CHECK), EXCLUSIVE, Rule.NOT_OVERWRITE, false, false);
        expect(decide(0, 2 * B, 2 * B, true, ZEROING_AWARE), SHARED, Rule.ALIGNED, false, false);
    }

    @Test
    void extendingWriteIsExclusiveWithForceWait() {
        layout("WWWW");
        for (LockPolicy p : LockPolicy.values()) {
            expect(decide(4 * B, B, 4 * B, true, p), EXCLUSIVE, Rule.EXTENDING, false, true);
            assertTrue(decide(4 * B, B, 4 * B, true, p).extending());
        }
        // unaligned and extending: the partial tail past i_size needs zeroing, so it also drains
        expect(decide(4 * B - 512, 1024, 4 * B, true, ZEROING_AWARE), EXCLUSIVE, Rule.EXTENDING, true, true);
        // past i_disksize only (i_size already moved by an in-flight extending write)
        LockDecision d = DioWriteChecks.decide(0, B, false, 4 * B, 0, true, BITS, tree::map, ZEROING_AWARE);
        assertEquals(Rule.EXTENDING, d.rule());
    }

    @Test
    void writeToSuidFileIsExclusive() {
        layout("WWWW");
        for (LockPolicy p : LockPolicy.values()) {
            expect(decide(0, B, 4 * B, false, p), EXCLUSIVE, Rule.NOT_NOSEC, false, false);
        }
        // unaligned on a suid file: exclusive, force-wait, no drain when nothing needs zeroing
        expect(decide(512, 1024, 4 * B, false, ZEROING_AWARE), EXCLUSIVE, Rule.NOT_NOSEC, false, false);
    }

    @Test
    void nowaitIsEagainExactlyWhenExclusiveIsNeeded() {
        layout("WUUW");
        assertTrue(DioWriteChecks.decide(512, 14336, true, 4 * B, 4 * B, true, BITS, tree::map, OVERWRITE_CHECK).eagain());
        assertFalse(DioWriteChecks.decide(512, 14336, true, 4 * B, 4 * B, true, BITS, tree::map, ZEROING_AWARE).eagain());
        assertTrue(DioWriteChecks.decide(4 * B, B, true, 4 * B, 4 * B, true, BITS, tree::map, ZEROING_AWARE).eagain());
        assertTrue(DioWriteChecks.decide(0, B, true, 4 * B, 4 * B, false, BITS, tree::map, ZEROING_AWARE).eagain());
    }

    @Test
    void needsZeroingUsesAtMostTwoLookups() {
        layout("WUUUUUUUUW");
        int[] lookups = {0};
        ExtentLookup counting = (l, n) -> {
            lookups[0]++;
            return tree.map(l, n);
        };
        assertFalse(DioWriteChecks.dioNeedsZeroing(512, 10 * B - 1024, 10 * B, BITS, counting));
        assertEquals(2, lookups[0]);
    }
}
