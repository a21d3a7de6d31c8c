package dionode.node.extent;

import static dionode.node.extent.ExtentFormat.BLOCK_MAX;

import java.util.List;

/**
 * A root-to-leaf path through an {@link ExtentTree} with the chosen entry per level (ext4's
 * {@code struct ext4_ext_path}), found by {@link #find} ({@code ext4_find_extent}); also a cursor
 * over the leaf entries, across leaves. Every node it reads below the root is checked before use;
 * one not in memory is an {@link ExtentMissException}.
 * Confined to the tree's owner, like the tree.
 */
final class ExtentPath {
    private final ExtentTree tree;
    final ExtentNode[] nodes;
    /** Per level, the entry chosen; at the leaf -1 when the key lies before the first entry. */
    final int[] idx;

    private ExtentPath(ExtentTree tree, int levels) {
        this.tree = tree;
        this.nodes = new ExtentNode[levels];
        this.idx = new int[levels];
    }

    /** ext4_find_extent: the path to the last leaf entry whose key is at most {@code lblk}. */
    static ExtentPath find(ExtentTree tree, long lblk) {
        ExtentNode node = new ExtentNode(tree, tree.root(), 0, -1);
        int depth = node.depth();
        if (depth > ExtentFormat.MAX_DEPTH) {
            throw new ExtentCorruptionException("inode " + tree.ino() + ": extent tree depth " + depth);
        }
        ExtentPath path = new ExtentPath(tree, depth + 1);
        for (int level = 0; ; level++) {
            path.nodes[level] = node;
            int entries = node.entries();
            if (node.depth() == 0) {
                path.idx[level] = lastKeyAtMost(node, entries, lblk);
                return path;
            }
            if (entries == 0) {
                throw new ExtentCorruptionException("inode " + tree.ino() + ": empty index node " + node.blk);
            }
            int chosen = Math.max(0, lastKeyAtMost(node, entries, lblk));
            path.idx[level] = chosen;
            node = path.child(level, chosen);
        }
    }

    /** The path to the first stored extent that ends after {@code lblk}, or null when there is none. */
    static ExtentPath firstEndingAfter(ExtentTree tree, long lblk) {
        ExtentPath path = find(tree, lblk);
        Extent found = path.current();
        if (found != null && found.end() > lblk) {
            return path;
        }
        return path.next() ? path : null;
    }

    private static int lastKeyAtMost(ExtentNode node, int entries, long lblk) {
        int lo = 0;
        int hi = entries - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (node.key(mid) <= lblk) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    int leafLevel() {
        return nodes.length - 1;
    }

    /** The node entry {@code i} of level {@code level} points to, checked against its parent. */
    ExtentNode child(int level, int i) {
        ExtentNode parent = nodes[level];
        long blk = ExtentFormat.child(parent.buf, parent.base, i);
        if (!tree.store().resident(blk)) {
            throw new ExtentMissException(tree.ino(), List.of(new ExtentMissException.Want(blk, parent.depth() - 1,
                    parent.key(i))));
        }
        ExtentNode child = new ExtentNode(tree, tree.store().node(blk), 0, blk);
        if (!ExtentFormat.magicOk(child.buf, 0) || child.depth() != parent.depth() - 1 || child.entries() > child.max()
                || child.max() != BLOCK_MAX) {
            throw new ExtentCorruptionException("inode " + tree.ino() + ": bad extent node at block " + blk);
        }
        return child;
    }

    /** The leaf entry the path points at, or null when it points before the first or past the last. */
    Extent current() {
        int leafLevel = leafLevel();
        int at = idx[leafLevel];
        return at >= 0 && at < nodes[leafLevel].entries() ? nodes[leafLevel].leaf(at) : null;
    }

    /** Moves to the next leaf entry, across leaves; false at the end of the tree. */
    boolean next() {
        int leafLevel = leafLevel();
        if (idx[leafLevel] + 1 < nodes[leafLevel].entries()) {
            idx[leafLevel]++;
            return true;
        }
        int level = leafLevel - 1;
        while (level >= 0 && idx[level] + 1 >= nodes[level].entries()) {
            level--;
        }
        if (level < 0) {
            return false;
        }
        idx[level]++;
        for (int l = level; l < leafLevel; l++) {
            nodes[l + 1] = child(l, idx[l]);
            idx[l + 1] = 0;
        }
        return nodes[leafLevel].entries() > 0;
    }
}
