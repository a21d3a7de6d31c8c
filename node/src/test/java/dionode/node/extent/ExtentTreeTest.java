package dionode.node.extent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExtentTreeTest {
    private static final long DATA = 1_000_000; // physical blocks for data start here; nodes live below

    private final MapNodeStore store = new MapNodeStore(100);
    private final ExtentTree tree = new ExtentTree(7, ExtentTree.emptyRoot(), store);

    @Test
    void emptyTreeIsOneHole() {
        assertEquals(new Mapping(5, 10, 0, Mapping.State.HOLE), tree.map(5, 10));
    }

    @Test
    void lookupMergesContiguousSameStateExtentsLikeMapBlocks() {
        // two written extents, physically contiguous, stored separately (max-length split)
        tree.insert(new Extent(0, Extent.MAX_WRITTEN_LEN, DATA, false));
        tree.insert(new Extent(Extent.MAX_WRITTEN_LEN, 10, DATA + Extent.MAX_WRITTEN_LEN, false));
        assertEquals(2, tree.extents(0, Long.MAX_VALUE).size());
        Mapping m = tree.map(100, 1 << 20);
        assertEquals(Mapping.State.WRITTEN, m.state());
        assertEquals(Extent.MAX_WRITTEN_LEN + 10 - 100, m.len());
        assertEquals(DATA + 100, m.pblk());
    }

    @Test
    void physicallyDiscontiguousWrittenExtentsAreTwoMappings() {
        tree.insert(new Extent(0, 1, DATA, false));
        tree.insert(new Extent(1, 1, DATA + 5, false));
        assertEquals(1, tree.map(0, 2).len());
    }

    @Test
    void seedTest1LayoutAlternatesWrittenAndUnwritten() {
        tree.insert(new Extent(0, 64, DATA, true));
        for (long b = 0; b < 64; b += 2) {
            tree.convertToWritten(b, b + 1);
        }
        for (long b = 0; b < 64; b++) {
            Mapping m = tree.map(b, 2);
            assertEquals(1, m.len(), "block " + b);
            assertEquals(b % 2 == 0 ? Mapping.State.WRITTEN : Mapping.State.UNWRITTEN, m.state());
            assertEquals(DATA + b, m.pblk());
        }
        // writing the unwritten halves merges everything back into one written extent
        for (long b = 1; b < 64; b += 2) {
            tree.convertToWritten(b, b + 1);
        }
        assertEquals(List.of(new Extent(0, 64, DATA, false)), tree.extents(0, 64));
    }

    @Test
    void convertSplitsAndReportsCount() {
        tree.insert(new Extent(10, 10, DATA, true));
        assertEquals(3, tree.convertToWritten(12, 15));
        assertEquals(List.of(new Extent(10, 2, DATA, true), new Extent(12, 3, DATA + 2, false),
                new Extent(15, 5, DATA + 5, true)), tree.extents(0, 100));
        assertEquals(0, tree.convertToWritten(12, 15));
    }

    @Test
    void replaceReturnsRemovedPiecesAndLeavesHoles() {
        tree.insert(new Extent(0, 100, DATA, false));
        List<Extent> removed = tree.replace(10, 20, List.of());
        assertEquals(List.of(new Extent(10, 10, DATA + 10, false)), removed);
        assertEquals(new Mapping(10, 10, 0, Mapping.State.HOLE), tree.map(10, 50));
        assertEquals(new Mapping(20, 80, DATA + 20, Mapping.State.WRITTEN), tree.map(20, 1000));
    }

    @Test
    void overlappingInsertIsRefused() {
        tree.insert(new Extent(0, 10, DATA, false));
        assertThrows(IllegalStateException.class, () -> tree.insert(new Extent(5, 10, DATA + 100, false)));
    }

    @Test
    void growsToManyLevelsAndShrinksBackInline() {
        int n = 500_000; // > 4 * 340 * 340 leaves: depth 3 under the 4-entry root
        for (long b = 0; b < n; b++) {
            // every other block, unwritten and written alternating: no merges possible
            tree.insert(new Extent(2 * b, 1, DATA + 2 * b, b % 2 == 0));
        }
        assertTrue(tree.depth() >= 3, "depth " + tree.depth());
        for (long b = 0; b < n; b += 997) {
            Mapping m = tree.map(2 * b, 10);
            assertEquals(new Mapping(2 * b, 1, DATA + 2 * b, b % 2 == 0 ? Mapping.State.UNWRITTEN : Mapping.State.WRITTEN), m);
            assertEquals(new Mapping(2 * b + 1, 1, 0, Mapping.State.HOLE), tree.map(2 * b + 1, 10));
        }
        assertEquals(n, tree.extents(0, Long.MAX_VALUE).size());
        List<Extent> removed = tree.replace(0, 2L * n, List.of());
        assertEquals(n, removed.size());
        assertEquals(0, tree.depth());
        assertTrue(store.blocks.isEmpty(), store.blocks.size() + " nodes left");
        assertEquals(new Mapping(0, 100, 0, Mapping.State.HOLE), tree.map(0, 100));
    }

    @Test
    void sequentialAppendsFillLeavesInsteadOfHalving() {
        for (long b = 0; b < 34_000; b++) {
            tree.insert(new Extent(2 * b, 1, DATA + 2 * b, false));
        }
        // 34000 extents at 340 per leaf: ~100 leaves plus a few index nodes, not ~200
        assertTrue(store.blocks.size() <= 105, store.blocks.size() + " nodes");
    }

    /** Random allocate / punch / convert against a block-by-block model. */
    @Test
    void randomOperationsMatchModel() {
        Random rnd = new Random(42);
        int span = 30_000;
        byte[] state = new byte[span]; // 0 hole, 1 unwritten, 2 written
        long[] phys = new long[span];
        long nextPhys = DATA;
        for (int op = 0; op < 20_000; op++) {
            int from = rnd.nextInt(span);
            int len = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 2000 : 8);
            int to = Math.min(span, from + len);
            switch (rnd.nextInt(3)) {
                case 0 -> { // allocate the holes of the range, unwritten, contiguous when possible
                    List<Extent> fill = new ArrayList<>();
                    for (int b = from; b < to; ) {
                        if (state[b] != 0) {
                            b++;
                            continue;
                        }
                        int e = b;
                        while (e < to && state[e] == 0 && e - b < Extent.MAX_UNWRITTEN_LEN) {
                            e++;
                        }
                        long p = rnd.nextBoolean() ? nextPhys : nextPhys + 1;
                        for (int k = b; k < e; k++) {
                            state[k] = 1;
                            phys[k] = p + (k - b);
                        }
                        nextPhys = p + (e - b);
                        Extent x = new Extent(b, e - b, p, true);
                        fill.add(x);
                        b = e;
                    }
                    for (Extent x : fill) {
                        tree.replace(x.lblk(), x.end(), List.of(x));
                    }
                }
                case 1 -> {
                    List<Extent> removed = tree.replace(from, to, List.of());
                    long blocks = removed.stream().mapToLong(Extent::len).sum();
                    long expected = 0;
                    for (int b = from; b < to; b++) {
                        if (state[b] != 0) {
                            expected++;
                            state[b] = 0;
                        }
                    }
                    assertEquals(expected, blocks);
                }
                default -> {
                    long expected = 0;
                    for (int b = from; b < to; b++) {
                        if (state[b] == 1) {
                            state[b] = 2;
                            expected++;
                        }
                    }
                    assertEquals(expected, tree.convertToWritten(from, to));
                }
            }
            if (op % 50 == 0) {
                checkAgainstModel(state, phys);
            }
        }
        checkAgainstModel(state, phys);
    }

    private void checkAgainstModel(byte[] state, long[] phys) {
        tree.validate((p, l) -> true, (p, l, node) -> { });
        int span = state.length;
        int b = 0;
        while (b < span) {
            Mapping m = tree.map(b, span - b);
            int e = b + 1;
            if (state[b] == 0) {
                while (e < span && state[e] == 0) {
                    e++;
                }
                assertEquals(new Mapping(b, e - b, 0, Mapping.State.HOLE), m, "hole at " + b);
            } else {
                while (e < span && state[e] == state[b] && phys[e] == phys[e - 1] + 1) {
                    e++;
                }
                assertEquals(new Mapping(b, e - b, phys[b], state[b] == 1 ? Mapping.State.UNWRITTEN : Mapping.State.WRITTEN), m,
                        "mapping at " + b);
            }
            b = e;
        }
        long prevEnd = -1;
        for (Extent x : tree.extents(0, Long.MAX_VALUE)) {
            assertTrue(x.lblk() >= prevEnd, "sorted, non-overlapping");
            prevEnd = x.end();
        }
    }

    @Test
    void validationFindsCraftedDamage() {
        for (long b = 0; b < 2000; b++) {
            tree.insert(new Extent(2 * b, 1, DATA + 2 * b, false));
        }
        ExtentCheck ok = tree.validate((p, l) -> p >= 100, (p, l, node) -> { });
        assertEquals(2000, ok.extents());
        assertEquals(2000, ok.writtenBlocks());
        assertEquals(3999, ok.endBlock());
        // an extent pointing outside the data area
        assertThrows(ExtentCorruptionException.class, () -> tree.validate((p, l) -> p >= DATA + 10, (p, l, node) -> { }));
        // a leaf whose keys go backwards
        byte[] leaf = store.blocks.values().iterator().next();
        ExtentFormat.key(leaf, 0, 1, 0);
        assertThrows(ExtentCorruptionException.class, () -> tree.validate((p, l) -> true, (p, l, node) -> { }));
    }

    @Test
    void badRootIsCorruption() {
        byte[] root = ExtentTree.emptyRoot();
        root[0] = 0;
        ExtentTree bad = new ExtentTree(1, root, store);
        assertThrows(ExtentCorruptionException.class, () -> bad.validate((p, l) -> true, (p, l, node) -> { }));
    }
}
