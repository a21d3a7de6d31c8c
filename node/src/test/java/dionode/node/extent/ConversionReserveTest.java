package dionode.node.extent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The node reservation for conversions is a bound, not a guess (DESIGN §5): whatever order
 * unwritten blocks are converted in, the nodes allocated so far plus the bound of what is left
 * never exceed the bound at the start, so the reservation taken when the space was promised always
 * covers the conversions.
 */
class ConversionReserveTest {
    private static final long DATA = 1_000_000;
    private static final int U = 6000;

    @Test
    void randomConversionsStayWithinTheBound() {
        Random rnd = new Random(1);
        convertAll(i -> {
            long b = rnd.nextInt(U);
            return new long[] {b, Math.min(U, b + 1 + rnd.nextInt(3))};
        }, 5);
    }

    @Test
    void convertingTheMiddleOfAFullLeafsLastExtentOverAndOverStaysWithinTheBound() {
        MapNodeStore store = new MapNodeStore(100);
        ExtentTree tree = new ExtentTree(7, ExtentTree.emptyRoot(), store);
        // a full leaf: 339 one-block written extents (nothing merges), then one unwritten extent
        int written = ExtentFormat.BLOCK_MAX - 1;
        for (int i = 0; i < written; i++) {
            tree.insert(new Extent(i, 1, DATA + 2L * i, false));
        }
        tree.insert(new Extent(written, U, DATA + 10_000, true));
        // every other block of it from its end down: each conversion splits the last extent of a
        // full leaf, which made a new two-extent leaf per conversion if a full leaf got a right sibling
        convertAll(store, tree, i -> {
            long b = written + U - 2 - 2L * (i % (U / 2));
            return new long[] {b, b + 1};
        }, 10);
    }

    @Test
    void sequentialConversionsStayWithinTheBound() {
        convertAll(i -> new long[] {i % U, i % U + 1}, 0);
    }

    /** Converts blocks of unwritten extents in physically separate runs, like several fallocates. */
    private static void convertAll(IntFunction<long[]> nextRange, int minNodes) {
        MapNodeStore store = new MapNodeStore(100);
        ExtentTree tree = new ExtentTree(7, ExtentTree.emptyRoot(), store);
        for (long at = 0; at < U; at += 1500) {
            tree.insert(new Extent(at, 1500, DATA + 2 * at, true));
        }
        convertAll(store, tree, nextRange, minNodes);
    }

    private static void convertAll(MapNodeStore store, ExtentTree tree, IntFunction<long[]> nextRange, int minNodes) {
        long unwritten = U;
        long start = tree.conversionReserve(unwritten);
        int before = store.allocations;
        for (int i = 0; i < 4 * U && unwritten > 0; i++) {
            long[] r = nextRange.apply(i);
            unwritten -= tree.convertToWritten(r[0], r[1]);
            long left = tree.conversionReserve(unwritten);
            long used = store.allocations - before;
            assertTrue(used + left <= start, "after " + i + " conversions: " + used + " nodes allocated, bound left " + left
                    + ", bound at the start " + start);
            if (i % 97 == 0) {
                assertEquals(left, new ExtentTree(7, tree.root().clone(), store).conversionReserve(unwritten),
                        "the slack kept while changing equals the slack counted afresh");
            }
        }
        assertTrue(store.allocations - before >= minNodes, "the conversions did need nodes: " + (store.allocations - before));
    }
}
