package dionode.node.extent;

import static dionode.node.extent.ExtentFormat.ROOT_MAX;
import static dionode.node.meta.InodeRecord.ROOT_BYTES;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;
import java.util.function.Consumer;

/**
 * One file's extent map: ext4's extent B+tree (fs/ext4/extents.c), root inline in the inode, other
 * nodes in blocks of an {@link ExtentNodeStore}. Lookups answer like {@code ext4_map_blocks()};
 * punch and allocation go through {@link #replace} (range replacements), conversion between
 * written and unwritten through {@link #convertState} (in place). Nodes are read through
 * {@link ExtentNode} views along an {@link ExtentPath}, {@link ExtentShape} grows and splits
 * them, {@link ExtentValidator} checks a whole tree. Confined to the inode actor that owns the file.
 *
 * <p>Index keys are lower bounds: entry i of an index node covers {@code [key_i, key_{i+1})} and
 * {@code key_i <= } every key below it (ext4_ext_correct_indexes keeps that on inserts at the left).
 */
public final class ExtentTree implements BlockMap {
    private final long ino;
    private final byte[] root;
    private final ExtentNodeStore store;
    private final SplitPotential potential = new SplitPotential();
    private final ExtentShape shape = new ExtentShape(this);

    /**
     * @param root the inode's 60-byte inline root; the tree keeps and edits this very array
     */
    public ExtentTree(long ino, byte[] root, ExtentNodeStore store) {
        if (root.length != ROOT_BYTES) {
            throw new IllegalArgumentException("root must be " + ROOT_BYTES + " bytes");
        }
        this.ino = ino;
        this.root = root;
        this.store = store;
    }

    /** A root for an empty file. */
    public static byte[] emptyRoot() {
        byte[] empty = new byte[ROOT_BYTES];
        ExtentFormat.initHeader(empty, 0, ROOT_MAX, 0);
        return empty;
    }

    @Override
    public byte[] root() {
        return root;
    }

    @Override
    public int depth() {
        return ExtentFormat.depth(root, 0);
    }

    @Override
    public long maxBlocks() {
        return ExtentFormat.MAX_LBLK + 1;
    }

    @Override
    public boolean hasUnwritten() {
        return true;
    }

    @Override
    public int maxRun(long lblk, boolean unwritten) {
        return Extent.maxLen(unwritten);
    }

    @Override
    public void seal(long blk, byte[] image) {
        ExtentFormat.seal(ino, blk, image);
    }

    @Override
    public void checkBlock(ExtentMissException.Want want, byte[] image, BiPredicate<Long, Long> validRange) {
        checkBlock(ino, want, image, validRange);
    }

    long ino() {
        return ino;
    }

    ExtentNodeStore store() {
        return store;
    }

    SplitPotential potential() {
        return potential;
    }

    // ---------------------------------------------------------------- lookups

    /**
     * ext4_map_blocks() without allocation: the run starting at {@code lblk}, at most
     * {@code maxLen} blocks, merging following extents that are logically and physically contiguous
     * and of the same state.
     */
    @Override
    public Mapping map(long lblk, long maxLen) {
        if (maxLen <= 0) {
            throw new IllegalArgumentException("maxLen " + maxLen);
        }
        long limit = lblk + maxLen;
        ExtentPath path = ExtentPath.find(this, lblk);
        Extent found = path.current();
        if (found != null && lblk < found.end()) {
            long pblk = found.pblk() + (lblk - found.lblk());
            Extent last = found;
            while (last.end() < limit && path.next()) {
                Extent following = path.current();
                if (following.lblk() != last.end() || following.pblk() != last.pend()
                        || following.unwritten() != last.unwritten()) {
                    break;
                }
                last = following;
            }
            long len = Math.min(last.end(), limit) - lblk;
            return new Mapping(lblk, len, pblk, found.unwritten() ? Mapping.State.UNWRITTEN : Mapping.State.WRITTEN);
        }
        long next = path.next() ? path.current().lblk() : Long.MAX_VALUE;
        return new Mapping(lblk, Math.min(next, limit) - lblk, 0, Mapping.State.HOLE);
    }

    /** Every stored extent overlapping {@code [from, to)}, in order, unclipped. */
    @Override
    public void forEach(long from, long to, Consumer<Extent> action) {
        ExtentPath path = ExtentPath.firstEndingAfter(this, from);
        Extent extent = path == null ? null : path.current();
        while (extent != null && extent.lblk() < to) {
            action.accept(extent);
            extent = path.next() ? path.current() : null;
        }
    }

    /** The first {@code limit} stored extents overlapping {@code [from, to)}, unclipped. */
    @Override
    public List<Extent> extents(long from, long to, int limit) {
        List<Extent> out = new ArrayList<>();
        ExtentPath path = ExtentPath.firstEndingAfter(this, from);
        Extent extent = path == null ? null : path.current();
        while (extent != null && extent.lblk() < to && out.size() < limit) {
            out.add(extent);
            extent = path.next() ? path.current() : null;
        }
        return out;
    }

    /** The extent before {@code lblk} (ending at or before it), for ext4_ext_find_goal. */
    @Override
    public Extent lastBefore(long lblk) {
        Extent found = ExtentPath.find(this, lblk == 0 ? 0 : lblk - 1).current();
        return found != null && found.lblk() < lblk ? found : null;
    }

    /**
     * Walks the whole tree and checks what ext4's ext4_ext_check and check_block_validity do
     * ({@link ExtentValidator}); {@code validRange} says whether a physical range lies inside the
     * data area. Reads every node.
     *
     * @throws ExtentCorruptionException naming the first problem
     */
    @Override
    public ExtentCheck validate(BiPredicate<Long, Long> validRange, PhysicalVisitor visitor) {
        return new ExtentValidator(ino, store, validRange, visitor).check(root);
    }

    @Override
    public List<ExtentMissException.Want> missing() {
        List<ExtentMissException.Want> out = new ArrayList<>();
        missingBelow(root, out);
        return out;
    }

    private void missingBelow(byte[] image, List<ExtentMissException.Want> out) {
        int depth = ExtentFormat.depth(image, 0);
        if (depth == 0) {
            return;
        }
        for (int i = 0; i < ExtentFormat.entries(image, 0); i++) {
            long child = ExtentFormat.child(image, 0, i);
            if (store.resident(child)) {
                missingBelow(store.node(child), out);
            } else {
                out.add(new ExtentMissException.Want(child, depth - 1, ExtentFormat.key(image, 0, i)));
            }
        }
    }

    /**
     * __ext4_ext_check of an extent block just read from the device, before it joins the cache:
     * checksum, header, the depth and first key its parent expects (when known), keys in order,
     * index entries that point into the data area, and no device block claimed twice within the
     * block (two children, two extents). Where each extent's blocks lie is checked
     * on every lookup that returns it (check_block_validity), not here.
     *
     * @throws ExtentCorruptionException naming the problem
     */
    public static void checkBlock(long ino, ExtentMissException.Want want, byte[] image, BiPredicate<Long, Long> validRange) {
        ExtentValidator.checkBlock(ino, want, image, validRange);
    }

    // ---------------------------------------------------------------- changes

    /**
     * Makes {@code [from, to)} hold exactly {@code with} (sorted, non-overlapping, inside the range;
     * blocks of the range not covered become holes). Returns the pieces of old extents that were
     * inside the range, so the caller can free or keep their blocks.
     */
    @Override
    public List<Extent> replace(long from, long to, List<Extent> with) {
        if (from < 0 || to > ExtentFormat.MAX_LBLK + 1 || from > to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ")");
        }
        List<Extent> removed = new ArrayList<>();
        while (from < to) {
            ExtentPath path = ExtentPath.firstEndingAfter(this, from);
            if (path == null || path.current().lblk() >= to) {
                break;
            }
            Extent old = path.current();
            removed.add(old.slice(from, to));
            boolean keepLeft = old.lblk() < from;
            boolean keepRight = old.end() > to;
            if (keepLeft && keepRight) {
                setEntry(path, old.slice(old.lblk(), from));
                insert(old.slice(to, old.end()));
                break;
            } else if (keepLeft) {
                setEntry(path, old.slice(old.lblk(), from));
            } else if (keepRight) {
                setEntry(path, old.slice(to, old.end()));
                break;
            } else {
                deleteEntry(path);
            }
        }
        long prevEnd = from;
        for (Extent replacement : with) {
            if (replacement.lblk() < prevEnd || replacement.end() > to) {
                throw new IllegalArgumentException("replacement " + replacement + " outside [" + from + ", " + to
                        + ") or unsorted");
            }
            prevEnd = replacement.end();
            insert(replacement);
        }
        return removed;
    }

    /** Marks every unwritten block in {@code [from, to)} written (ext4_convert_unwritten_extents). Returns blocks converted. */
    public long convertToWritten(long from, long to) {
        return convertState(from, to, false);
    }

    /**
     * Sets the state of every allocated block in {@code [from, to)}; returns how many changed.
     * To unwritten is what FALLOC_FL_ZERO_RANGE does to whole blocks.
     *
     * <p>In place, like ext4_split_convert_extents: an extent wholly inside the range changes state
     * where it is stored and merges with its neighbours in the leaf; one that straddles an end of
     * the range keeps its first piece in place and inserts the others. So one call inserts at most
     * two extents (one per end), never frees a node, never shrinks the tree, and a full leaf is
     * always halved rather than given a new right sibling: the bound {@link ConversionReserve}
     * proves rests on exactly that.
     */
    @Override
    public long convertState(long from, long to, boolean unwritten) {
        long converted = 0;
        long pos = from;
        while (pos < to) {
            ExtentPath path = ExtentPath.firstEndingAfter(this, pos);
            if (path == null || path.current().lblk() >= to) {
                break;
            }
            Extent old = path.current();
            long start = Math.max(pos, old.lblk());
            long end = Math.min(to, old.end());
            pos = end;
            if (old.unwritten() != unwritten) {
                converted += end - start;
                restate(path, old, start, end, unwritten);
            }
        }
        return converted;
    }

    /** {@code [start, end)} of {@code old} (found at {@code path}) takes the other state; the rest keeps its own. */
    private void restate(ExtentPath path, Extent old, long start, long end, boolean unwritten) {
        List<Extent> pieces = new ArrayList<>(4);
        if (old.lblk() < start) {
            pieces.add(old.slice(old.lblk(), start));
        }
        int max = Extent.maxLen(unwritten);
        for (long at = start; at < end; at += max) {
            pieces.add(old.slice(at, Math.min(end, at + max)).withState(unwritten));
        }
        if (end < old.end()) {
            pieces.add(old.slice(end, old.end()));
        }
        setEntry(path, pieces.get(0));
        if (start == old.lblk()) {
            mergeInLeaf(start);
        }
        for (int i = 1; i < pieces.size(); i++) {
            insert(pieces.get(i), false);
        }
    }

    /** ext4_ext_try_to_merge: the extent starting at {@code lblk} absorbs contiguous neighbours of its leaf. */
    private void mergeInLeaf(long lblk) {
        ExtentPath path = ExtentPath.find(this, lblk);
        ExtentNode leaf = path.nodes[path.leafLevel()];
        int at = path.idx[path.leafLevel()];
        Extent current = leaf.leaf(at);
        if (at + 1 < leaf.entries() && current.canAppend(leaf.leaf(at + 1))) {
            current = new Extent(current.lblk(), current.len() + leaf.leaf(at + 1).len(), current.pblk(), current.unwritten());
            leaf.writable();
            ExtentFormat.leaf(leaf.buf, leaf.base, at, current);
            leaf.removeAt(at + 1);
        }
        if (at > 0 && leaf.leaf(at - 1).canAppend(current)) {
            Extent left = leaf.leaf(at - 1);
            leaf.writable();
            ExtentFormat.leaf(leaf.buf, leaf.base, at - 1, new Extent(left.lblk(), left.len() + current.len(), left.pblk(),
                    left.unwritten()));
            leaf.removeAt(at);
        }
    }

    /** Adds an extent over a hole, merging with neighbours in the same leaf where ext4 would. */
    public void insert(Extent extent) {
        insert(extent, true);
    }

    /**
     * @param mayStartLeaf whether an insert past the end of a full leaf may start a new leaf with
     *                     just this extent (ext4_ext_split's border, good for appends) instead of
     *                     halving the full one
     */
    private void insert(Extent extent, boolean mayStartLeaf) {
        for (int guard = 0; guard < 4 * ExtentFormat.MAX_DEPTH + 8; guard++) {
            ExtentPath path = ExtentPath.find(this, extent.lblk());
            int leafLevel = path.leafLevel();
            ExtentNode leaf = path.nodes[leafLevel];
            int at = path.idx[leafLevel];
            int entries = leaf.entries();
            if (at >= 0) {
                Extent left = leaf.leaf(at);
                if (left.end() > extent.lblk()) {
                    throw new IllegalStateException("insert of " + extent + " overlaps " + left);
                }
                if (left.canAppend(extent)) {
                    Extent merged = new Extent(left.lblk(), left.len() + extent.len(), left.pblk(), left.unwritten());
                    if (at + 1 < entries && merged.canAppend(leaf.leaf(at + 1))) {
                        Extent right = leaf.leaf(at + 1);
                        setEntry(path, new Extent(merged.lblk(), merged.len() + right.len(), merged.pblk(), merged.unwritten()));
                        path.idx[leafLevel] = at + 1;
                        deleteEntry(path);
                    } else {
                        setEntry(path, merged);
                    }
                    return;
                }
            }
            if (at + 1 < entries) {
                Extent right = leaf.leaf(at + 1);
                if (extent.end() > right.lblk()) {
                    throw new IllegalStateException("insert of " + extent + " overlaps " + right);
                }
                if (extent.canAppend(right)) {
                    path.idx[leafLevel] = at + 1;
                    setEntry(path, new Extent(extent.lblk(), extent.len() + right.len(), extent.pblk(), extent.unwritten()));
                    return;
                }
            }
            if (entries < leaf.max()) {
                leaf.writable();
                leaf.insertAt(at + 1);
                ExtentFormat.leaf(leaf.buf, leaf.base, at + 1, extent);
                if (at + 1 == 0) {
                    shape.correctIndexes(path, leafLevel);
                }
                return;
            }
            // the leaf is full
            if (leafLevel == 0) {
                shape.growRoot();
            } else if (path.nodes[leafLevel - 1].entries() == path.nodes[leafLevel - 1].max()) {
                shape.splitIndex(path, leafLevel - 1);
            } else if (at + 1 == entries && mayStartLeaf) {
                // appending at the right edge: start a new leaf rather than halving this one (ext4_ext_split's border)
                long blk = shape.newNode(leaf.blk, 0);
                ExtentNode sibling = new ExtentNode(this, store.modify(blk), 0, blk);
                sibling.insertAt(0);
                ExtentFormat.leaf(sibling.buf, sibling.base, 0, extent);
                shape.insertIndex(path, leafLevel - 1, path.idx[leafLevel - 1] + 1, extent.lblk(), blk);
                return;
            } else {
                shape.splitHalf(path, leafLevel);
            }
        }
        throw new IllegalStateException("extent insert did not converge");
    }

    // ---------------------------------------------------------------- structure

    private void setEntry(ExtentPath path, Extent extent) {
        int leafLevel = path.leafLevel();
        ExtentNode leaf = path.nodes[leafLevel];
        int at = path.idx[leafLevel];
        long oldKey = leaf.key(at);
        leaf.writable();
        ExtentFormat.leaf(leaf.buf, leaf.base, at, extent);
        if (at == 0 && extent.lblk() != oldKey) {
            shape.correctIndexes(path, leafLevel);
        }
    }

    private void deleteEntry(ExtentPath path) {
        int level = path.leafLevel();
        while (true) {
            ExtentNode node = path.nodes[level];
            node.writable();
            node.removeAt(path.idx[level]);
            if (node.entries() > 0) {
                if (path.idx[level] == 0) {
                    shape.correctIndexes(path, level);
                }
                break;
            }
            if (level == 0) {
                break;
            }
            store.freeNode(node.blk);
            level--;
        }
        if (depth() > 0 && ExtentFormat.entries(root, 0) == 0) {
            ExtentFormat.initHeader(root, 0, ROOT_MAX, 0);
        }
        shape.shrinkRoot();
    }

    // ---------------------------------------------------------------- split potential

    /** Forgets the counted split potential, after the caller put node images back as they were. */
    @Override
    public void forgetShape() {
        potential.forget();
    }

    /**
     * The most extent-node blocks that converting {@code unwrittenBlocks} unwritten blocks of this
     * tree to written can still allocate (see {@link ConversionReserve}).
     */
    @Override
    public long conversionReserve(long unwrittenBlocks) {
        if (unwrittenBlocks <= 0) {
            return 0;
        }
        return ConversionReserve.bound(unwrittenBlocks, depth(), ExtentFormat.entries(root, 0), potential.perDepth(root, store));
    }
}
