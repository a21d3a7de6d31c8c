package dionode.node.extent;

import static dionode.node.extent.ExtentFormat.BLOCK_MAX;

/**
 * Per depth, over one tree's non-root nodes, the sum of how far each is past half full: the
 * potential {@link ConversionReserve} charges for the splits still to come. Counted by a walk of
 * the tree on first use, then kept exact as {@link ExtentNode#setEntries} changes entry counts;
 * forgotten when the caller puts node images back behind the tree's back. Confined to the tree's
 * owner, like the tree.
 */
final class SplitPotential {
    /** Null until counted. */
    private long[] perDepth;

    /** How far a node with {@code entries} is past half full: a split of a full node takes BLOCK_MAX / 2 off. */
    static int over(int entries) {
        return Math.max(0, entries - (BLOCK_MAX - BLOCK_MAX / 2));
    }

    /** A node at {@code depth} went from {@code before} to {@code after} entries. */
    void entriesChanged(int depth, int before, int after) {
        if (perDepth != null) {
            perDepth[depth] += over(after) - over(before);
        }
    }

    void forget() {
        perDepth = null;
    }

    /** The potential per depth, counted from the nodes below {@code root} when not yet known. */
    long[] perDepth(byte[] root, ExtentNodeStore store) {
        if (perDepth == null) {
            long[] counted = new long[ExtentFormat.MAX_DEPTH + 1];
            count(root, 0, store, counted);
            perDepth = counted;
        }
        return perDepth;
    }

    private static void count(byte[] image, int base, ExtentNodeStore store, long[] counted) {
        int depth = ExtentFormat.depth(image, base);
        if (depth == 0) {
            return;
        }
        for (int i = 0; i < ExtentFormat.entries(image, base); i++) {
            byte[] child = store.node(ExtentFormat.child(image, base, i));
            counted[depth - 1] += over(ExtentFormat.entries(child, 0));
            count(child, 0, store, counted);
        }
    }
}
