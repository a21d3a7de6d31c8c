package dionode.node.extent;

/**
 * A view of one node of an {@link ExtentTree}: the inline root ({@code blk == -1}, edited where it
 * lies in the inode's record) or a block of the tree's {@link ExtentNodeStore}, with the entry
 * moves the tree's changes are made of. Entry counts change only through {@link #setEntries}, so
 * the tree's {@link SplitPotential} stays exact. Confined to the tree's owner, like the tree.
 */
final class ExtentNode {
    private final ExtentTree tree;
    /** The image read through; replaced by the writable image on {@link #writable()}. */
    byte[] buf;
    final int base;
    final long blk;

    ExtentNode(ExtentTree tree, byte[] buf, int base, long blk) {
        this.tree = tree;
        this.buf = buf;
        this.base = base;
        this.blk = blk;
    }

    int entries() {
        return ExtentFormat.entries(buf, base);
    }

    int max() {
        return ExtentFormat.max(buf, base);
    }

    int depth() {
        return ExtentFormat.depth(buf, base);
    }

    long key(int i) {
        return ExtentFormat.key(buf, base, i);
    }

    Extent leaf(int i) {
        return ExtentFormat.leaf(buf, base, i);
    }

    /** Makes a block node's image the one the running step may change (the root is always changeable). */
    void writable() {
        if (blk >= 0) {
            buf = tree.store().modify(blk);
        }
    }

    /** Sets the entry count, keeping the tree's split potential exact (the root has none). */
    void setEntries(int entries) {
        if (blk >= 0) {
            tree.potential().entriesChanged(depth(), entries(), entries);
        }
        ExtentFormat.entries(buf, base, entries);
    }

    /** Opens a gap for one entry at {@code pos}; the caller writes the entry. */
    void insertAt(int pos) {
        int entries = entries();
        int from = ExtentFormat.entryOffset(base, pos);
        System.arraycopy(buf, from, buf, from + ExtentFormat.ENTRY_BYTES, (entries - pos) * ExtentFormat.ENTRY_BYTES);
        setEntries(entries + 1);
    }

    void removeAt(int pos) {
        int entries = entries();
        int from = ExtentFormat.entryOffset(base, pos + 1);
        System.arraycopy(buf, from, buf, from - ExtentFormat.ENTRY_BYTES, (entries - pos - 1) * ExtentFormat.ENTRY_BYTES);
        setEntries(entries - 1);
    }
}
