package dionode.node.extent;

import static dionode.node.extent.ExtentFormat.BLOCK_MAX;
import static dionode.node.extent.ExtentFormat.MAX_DEPTH;
import static dionode.node.extent.ExtentFormat.ROOT_MAX;

/**
 * How many extent-node blocks the unwritten-to-written conversions of a file can still need, so
 * that they can be held back when the unwritten space is promised (fallocate, or a write's own
 * allocation) and a conversion never finds the device full: ext4's reserved clusters and
 * {@code EXT4_GET_BLOCKS_METADATA_NOFAIL}, with a bound instead of a guess (DESIGN §5). Pure and
 * stateless: thread-safe.
 *
 * <p>The argument, for conversions as {@link ExtentTree#convertState} does them (in place, at most
 * two inserts per conversion, each converting at least one unwritten block; a full leaf is halved,
 * never given a fresh right sibling; no node freed, the tree never shrinks):
 * <ul>
 * <li>All future conversions insert at most {@code I = 2U} extents, U the unwritten blocks now.
 * <li>A node allocation is a split of a full non-root node into two halves, or a grow of the root
 * (ext4_ext_grow_indepth). A node with e entries has potential {@code max(0, e - ceil(M/2))}, M =
 * {@link ExtentFormat#BLOCK_MAX}: an insert adds at most 1, a merge only takes off, a split of a
 * full node takes off {@code H = floor(M/2)}. So the splits of level 0 are at most
 * {@code floor((slack_0 + I) / H)}, and those of level l at most {@code floor((slack_l + splits_(l-1)) / H)},
 * each split of level l-1 being one index insert into level l.
 * <li>The root (at most {@link ExtentFormat#ROOT_MAX} entries) grows only when full: with e entries
 * and A inserts still to come into whatever is the root, at most {@code floor((e + A) / ROOT_MAX)}
 * grows, and never past {@link ExtentFormat#MAX_DEPTH}. A leaf root (depth 0) grows at most once
 * from its own inserts; after that only index inserts reach it.
 * </ul>
 * Each term drops by at least the blocks a conversion step allocates, so the bound evaluated after
 * the step never exceeds the bound before it minus what the step took: a reservation equal to the
 * bound, charged for each node a conversion allocates, is never short.
 */
public final class ConversionReserve {
    private static final int H = BLOCK_MAX / 2;

    private ConversionReserve() {
    }

    /**
     * @param unwritten   unwritten blocks of the file
     * @param depth       the tree's depth (0: the root is the only leaf)
     * @param rootEntries entries in the inline root
     * @param slack       per depth, the sum of the non-root nodes' potential (see the class comment)
     */
    public static long bound(long unwritten, int depth, int rootEntries, long[] slack) {
        if (unwritten <= 0) {
            return 0;
        }
        long inserts = 2 * unwritten;
        long[] splits = new long[MAX_DEPTH];
        long below = inserts;
        long all = 0;
        for (int level = 0; level < MAX_DEPTH; level++) {
            splits[level] = (slack[level] + below) / H;
            below = splits[level];
            all += splits[level];
        }
        long grows;
        if (depth == 0) {
            grows = (rootEntries + inserts > ROOT_MAX ? 1 : 0) + (1 + all) / ROOT_MAX;
        } else {
            long intoRoot = 0;
            for (int level = depth - 1; level < MAX_DEPTH; level++) {
                intoRoot += splits[level];
            }
            grows = (rootEntries + intoRoot) / ROOT_MAX;
        }
        return all + Math.min(grows, MAX_DEPTH - depth);
    }
}
