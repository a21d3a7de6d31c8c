package dionode.node.extent;

import static dionode.node.extent.ExtentFormat.BLOCK_MAX;
import static dionode.node.extent.ExtentFormat.ROOT_MAX;

import java.util.Arrays;

/**
 * How an {@link ExtentTree}'s shape changes under its inserts and deletes: the root grows into a
 * new block ({@code ext4_ext_grow_indepth}) and shrinks back, a full node is halved into a new
 * sibling ({@code ext4_ext_split}), index entries are inserted and corrected
 * ({@code ext4_ext_correct_indexes}). Confined to the tree's owner, like the tree.
 */
final class ExtentShape {
    private final ExtentTree tree;

    ExtentShape(ExtentTree tree) {
        this.tree = tree;
    }

    /** The inverse of {@link #growRoot}: a root with one child that fits inline takes the child's entries. */
    void shrinkRoot() {
        while (tree.depth() > 0 && ExtentFormat.entries(tree.root(), 0) == 1) {
            long childBlk = ExtentFormat.child(tree.root(), 0, 0);
            byte[] child = tree.store().node(childBlk);
            int entries = ExtentFormat.entries(child, 0);
            if (entries > ROOT_MAX) {
                return;
            }
            int childDepth = ExtentFormat.depth(child, 0);
            System.arraycopy(child, ExtentFormat.HEADER_BYTES, tree.root(), ExtentFormat.HEADER_BYTES,
                    entries * ExtentFormat.ENTRY_BYTES);
            ExtentFormat.entries(tree.root(), 0, entries);
            ExtentFormat.depth(tree.root(), 0, childDepth);
            tree.store().freeNode(childBlk);
        }
    }

    /** ext4_ext_grow_indepth: the full root moves into a new block and the root points to it. */
    void growRoot() {
        int depth = tree.depth();
        if (depth >= ExtentFormat.MAX_DEPTH) {
            throw new IllegalStateException("extent tree of inode " + tree.ino() + " at maximum depth");
        }
        long blk = newNode(0, depth);
        ExtentNode moved = new ExtentNode(tree, tree.store().modify(blk), 0, blk);
        int entries = ExtentFormat.entries(tree.root(), 0);
        System.arraycopy(tree.root(), ExtentFormat.HEADER_BYTES, moved.buf, ExtentFormat.HEADER_BYTES,
                entries * ExtentFormat.ENTRY_BYTES);
        moved.setEntries(entries);
        long firstKey = entries > 0 ? ExtentFormat.key(tree.root(), 0, 0) : 0;
        ExtentFormat.initHeader(tree.root(), 0, ROOT_MAX, depth + 1);
        ExtentFormat.index(tree.root(), 0, 0, firstKey, blk);
        ExtentFormat.entries(tree.root(), 0, 1);
    }

    void splitIndex(ExtentPath path, int level) {
        if (level == 0) {
            growRoot();
        } else if (path.nodes[level - 1].entries() == path.nodes[level - 1].max()) {
            splitIndex(path, level - 1);
        } else {
            splitHalf(path, level);
        }
    }

    /** Moves the upper half of a full non-root node into a new sibling; the parent has room. */
    void splitHalf(ExtentPath path, int level) {
        ExtentNode full = path.nodes[level];
        long blk = newNode(full.blk, full.depth());
        ExtentNode sibling = new ExtentNode(tree, tree.store().modify(blk), 0, blk);
        int total = full.entries();
        int keep = total / 2;
        full.writable();
        System.arraycopy(full.buf, ExtentFormat.entryOffset(full.base, keep), sibling.buf, ExtentFormat.entryOffset(0, 0),
                (total - keep) * ExtentFormat.ENTRY_BYTES);
        sibling.setEntries(total - keep);
        full.setEntries(keep);
        insertIndex(path, level - 1, path.idx[level - 1] + 1, sibling.key(0), blk);
    }

    void insertIndex(ExtentPath path, int level, int pos, long key, long child) {
        ExtentNode parent = path.nodes[level];
        parent.writable();
        parent.insertAt(pos);
        ExtentFormat.index(parent.buf, parent.base, pos, key, child);
    }

    long newNode(long goal, int depth) {
        long blk = tree.store().allocateNode(goal);
        byte[] image = tree.store().modify(blk);
        Arrays.fill(image, (byte) 0);
        ExtentFormat.initHeader(image, 0, BLOCK_MAX, depth);
        return blk;
    }

    /**
     * ext4_ext_correct_indexes: the first key of the node at {@code level} changed, so the index
     * entries above it take the new key. Keys stay exactly the first key below them, so an extent
     * can never grow, by a merge, into the range of the next node.
     */
    void correctIndexes(ExtentPath path, int level) {
        long key = path.nodes[level].key(0);
        for (int l = level - 1; l >= 0; l--) {
            ExtentNode node = path.nodes[l];
            int at = path.idx[l];
            if (node.key(at) != key) {
                node.writable();
                ExtentFormat.key(node.buf, node.base, at, key);
            }
            if (at != 0) {
                break;
            }
        }
    }
}
