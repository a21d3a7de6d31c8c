package dionode.node.extent;

import static dionode.node.extent.ExtentFormat.BLOCK_MAX;
import static dionode.node.extent.ExtentFormat.ROOT_MAX;
import static dionode.node.meta.InodeRecord.ROOT_BYTES;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One file's extent map: ext4's extent B+tree (fs/ext4/extents.c), root inline in the inode, other
 * nodes in blocks of an {@link ExtentNodeStore}. Lookups answer like {@code ext4_map_blocks()};
 * punch and allocation go through {@link #replace} (range replacements), conversion between
 * written and unwritten through {@link #convertState} (in place). Confined to the inode actor that
 * owns the file.
 *
 * <p>Index keys are lower bounds: entry i of an index node covers {@code [key_i, key_{i+1})} and
 * {@code key_i <= } every key below it (ext4_ext_correct_indexes keeps that on inserts at the left).
 */
public final class ExtentTree {
    private final long ino;
    private final byte[] root;
    private final ExtentNodeStore store;
    private boolean rootChanged;
    /**
     * Per depth, over the non-root nodes, the sum of {@link #over}: how close they are to splitting
     * (the potential {@link ConversionReserve} charges). Counted on first use, then kept exact.
     */
    private long[] slack;

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
        byte[] r = new byte[ROOT_BYTES];
        ExtentFormat.initHeader(r, 0, ROOT_MAX, 0);
        return r;
    }

    public byte[] root() {
        return root;
    }

    /** True once since the last call when the inline root changed (the inode record must be logged). */
    public boolean takeRootChanged() {
        boolean c = rootChanged;
        rootChanged = false;
        return c;
    }

    public int depth() {
        return ExtentFormat.depth(root, 0);
    }

    // ---------------------------------------------------------------- lookups

    /**
     * ext4_map_blocks() without allocation: the run starting at {@code lblk}, at most
     * {@code maxLen} blocks, merging following extents that are logically and physically contiguous
     * and of the same state.
     */
    public Mapping map(long lblk, long maxLen) {
        if (maxLen <= 0) {
            throw new IllegalArgumentException("maxLen " + maxLen);
        }
        long limit = lblk + maxLen;
        Path p = findPath(lblk);
        Extent e = p.current();
        if (e != null && lblk < e.end()) {
            long pblk = e.pblk() + (lblk - e.lblk());
            Extent last = e;
            while (last.end() < limit && p.next()) {
                Extent n = p.current();
                if (n.lblk() != last.end() || n.pblk() != last.pend() || n.unwritten() != last.unwritten()) {
                    break;
                }
                last = n;
            }
            long len = Math.min(last.end(), limit) - lblk;
            return new Mapping(lblk, len, pblk, e.unwritten() ? Mapping.State.UNWRITTEN : Mapping.State.WRITTEN);
        }
        long next = p.next() ? p.current().lblk() : Long.MAX_VALUE;
        return new Mapping(lblk, Math.min(next, limit) - lblk, 0, Mapping.State.HOLE);
    }

    /** Every stored extent overlapping {@code [from, to)}, in order, unclipped. */
    public void forEach(long from, long to, Consumer<Extent> action) {
        Path p = firstEndingAfter(from);
        Extent e = p == null ? null : p.current();
        while (e != null && e.lblk() < to) {
            action.accept(e);
            e = p.next() ? p.current() : null;
        }
    }

    public List<Extent> extents(long from, long to) {
        return extents(from, to, Integer.MAX_VALUE);
    }

    /** The first {@code limit} stored extents overlapping {@code [from, to)}, unclipped. */
    public List<Extent> extents(long from, long to, int limit) {
        List<Extent> out = new ArrayList<>();
        Path p = firstEndingAfter(from);
        Extent e = p == null ? null : p.current();
        while (e != null && e.lblk() < to && out.size() < limit) {
            out.add(e);
            e = p.next() ? p.current() : null;
        }
        return out;
    }

    /** The extent before {@code lblk} (ending at or before it), for ext4_ext_find_goal. */
    public Extent lastBefore(long lblk) {
        Path p = findPath(lblk == 0 ? 0 : lblk - 1);
        Extent e = p.current();
        return e != null && e.lblk() < lblk ? e : null;
    }

    /** Receives every physical range the tree references, for cross-checks (bitmaps, overlaps). */
    public interface PhysicalVisitor {
        /** @param node true for a tree node block, false for an extent's data blocks */
        void visit(long pblk, long len, boolean node);
    }

    /**
     * Walks the whole tree and checks what ext4's ext4_ext_check and check_block_validity do:
     * headers, depths, ordering, keys against their index bounds, extent lengths, and (through
     * {@code validRange}) that every node and extent lies inside the data area. Reads every node.
     *
     * @throws ExtentCorruptionException naming the first problem
     */
    public ExtentCheck validate(java.util.function.BiPredicate<Long, Long> validRange, PhysicalVisitor visitor) {
        if (!ExtentFormat.magicOk(root, 0) || ExtentFormat.max(root, 0) != ROOT_MAX
                || ExtentFormat.entries(root, 0) > ROOT_MAX || depth() > ExtentFormat.MAX_DEPTH) {
            throw new ExtentCorruptionException("inode " + ino + ": bad extent root header");
        }
        long[] acc = new long[5];
        acc[4] = -1;
        walk(root, 0, -1, depth(), 0, ExtentFormat.MAX_LBLK + 1, validRange, visitor, acc);
        return new ExtentCheck(acc[0], acc[1], acc[2], acc[3], Math.max(0, acc[4]));
    }

    private void walk(byte[] b, int base, long blk, int expectDepth, long lo, long hi,
            java.util.function.BiPredicate<Long, Long> validRange, PhysicalVisitor visitor, long[] acc) {
        String where = "inode " + ino + (blk < 0 ? " root" : " node " + blk);
        int n = ExtentFormat.entries(b, base);
        if (ExtentFormat.depth(b, base) != expectDepth || n > ExtentFormat.max(b, base) || (blk >= 0 && n == 0)) {
            throw new ExtentCorruptionException(where + ": bad header (depth " + ExtentFormat.depth(b, base)
                    + ", entries " + n + ")");
        }
        long prev = lo - 1;
        for (int i = 0; i < n; i++) {
            long key = ExtentFormat.key(b, base, i);
            boolean firstMayBeLower = i == 0;
            if (key <= prev || key >= hi || (!firstMayBeLower && key < lo)) {
                throw new ExtentCorruptionException(where + ": key " + key + " out of order or outside [" + lo + ", " + hi + ")");
            }
            if (expectDepth == 0) {
                long[] raw = ExtentFormat.rawLeaf(b, base, i);
                long rawLen = raw[1];
                boolean unwritten = rawLen > Extent.MAX_WRITTEN_LEN;
                long len = unwritten ? rawLen - Extent.MAX_WRITTEN_LEN : rawLen;
                long pblk = raw[2];
                if (len == 0 || key < lo || key + len > hi || pblk <= 0 || !validRange.test(pblk, len)) {
                    throw new ExtentCorruptionException(where + ": extent lblk " + key + " len " + len + " pblk " + pblk
                            + " is invalid or outside the data area");
                }
                visitor.visit(pblk, len, false);
                acc[0]++;
                acc[unwritten ? 2 : 1] += len;
                acc[4] = Math.max(acc[4], key + len);
                prev = key + len - 1;
            } else {
                long child = ExtentFormat.child(b, base, i);
                long childHi = i + 1 < n ? ExtentFormat.key(b, base, i + 1) : hi;
                if (!validRange.test(child, 1L)) {
                    throw new ExtentCorruptionException(where + ": index points to block " + child + " outside the data area");
                }
                byte[] c = store.node(child);
                if (!ExtentFormat.magicOk(c, 0) || ExtentFormat.max(c, 0) != BLOCK_MAX
                        || ExtentFormat.entries(c, 0) == 0 || ExtentFormat.key(c, 0, 0) != key) {
                    throw new ExtentCorruptionException("inode " + ino + " node " + child
                            + ": bad magic, max, or first key other than its index key " + key);
                }
                visitor.visit(child, 1, true);
                acc[3]++;
                walk(c, 0, child, expectDepth - 1, Math.max(lo, key), childHi, validRange, visitor, acc);
                prev = key;
            }
        }
    }

    // ---------------------------------------------------------------- changes

    /**
     * Makes {@code [from, to)} hold exactly {@code with} (sorted, non-overlapping, inside the range;
     * blocks of the range not covered become holes). Returns the pieces of old extents that were
     * inside the range, so the caller can free or keep their blocks.
     */
    public List<Extent> replace(long from, long to, List<Extent> with) {
        if (from < 0 || to > ExtentFormat.MAX_LBLK + 1 || from > to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ")");
        }
        List<Extent> removed = new ArrayList<>();
        while (from < to) {
            Path p = firstEndingAfter(from);
            if (p == null || p.current().lblk() >= to) {
                break;
            }
            Extent e = p.current();
            removed.add(e.slice(from, to));
            boolean keepLeft = e.lblk() < from;
            boolean keepRight = e.end() > to;
            if (keepLeft && keepRight) {
                setEntry(p, e.slice(e.lblk(), from));
                insert(e.slice(to, e.end()));
                break;
            } else if (keepLeft) {
                setEntry(p, e.slice(e.lblk(), from));
            } else if (keepRight) {
                setEntry(p, e.slice(to, e.end()));
                break;
            } else {
                deleteEntry(p);
            }
        }
        long prevEnd = from;
        for (Extent x : with) {
            if (x.lblk() < prevEnd || x.end() > to) {
                throw new IllegalArgumentException("replacement " + x + " outside [" + from + ", " + to + ") or unsorted");
            }
            prevEnd = x.end();
            insert(x);
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
    public long convertState(long from, long to, boolean unwritten) {
        long converted = 0;
        long pos = from;
        while (pos < to) {
            Path p = firstEndingAfter(pos);
            if (p == null || p.current().lblk() >= to) {
                break;
            }
            Extent e = p.current();
            long s = Math.max(pos, e.lblk());
            long t = Math.min(to, e.end());
            pos = t;
            if (e.unwritten() != unwritten) {
                converted += t - s;
                restate(p, e, s, t, unwritten);
            }
        }
        return converted;
    }

    /** {@code [s, t)} of {@code e} (found at {@code p}) takes the other state; the rest of e keeps its own. */
    private void restate(Path p, Extent e, long s, long t, boolean unwritten) {
        List<Extent> pieces = new ArrayList<>(4);
        if (e.lblk() < s) {
            pieces.add(e.slice(e.lblk(), s));
        }
        int max = Extent.maxLen(unwritten);
        for (long at = s; at < t; at += max) {
            pieces.add(e.slice(at, Math.min(t, at + max)).withState(unwritten));
        }
        if (t < e.end()) {
            pieces.add(e.slice(t, e.end()));
        }
        setEntry(p, pieces.get(0));
        if (s == e.lblk()) {
            mergeInLeaf(s);
        }
        for (int i = 1; i < pieces.size(); i++) {
            insert(pieces.get(i), false);
        }
    }

    /** ext4_ext_try_to_merge: the extent starting at {@code lblk} absorbs contiguous neighbours of its leaf. */
    private void mergeInLeaf(long lblk) {
        Path p = findPath(lblk);
        Node leaf = p.nodes[p.leafLevel()];
        int i = p.idx[p.leafLevel()];
        Extent cur = leaf.leaf(i);
        if (i + 1 < leaf.entries() && cur.canAppend(leaf.leaf(i + 1))) {
            cur = new Extent(cur.lblk(), cur.len() + leaf.leaf(i + 1).len(), cur.pblk(), cur.unwritten());
            leaf.writable();
            ExtentFormat.leaf(leaf.buf, leaf.base, i, cur);
            leaf.removeAt(i + 1);
        }
        if (i > 0 && leaf.leaf(i - 1).canAppend(cur)) {
            Extent left = leaf.leaf(i - 1);
            leaf.writable();
            ExtentFormat.leaf(leaf.buf, leaf.base, i - 1, new Extent(left.lblk(), left.len() + cur.len(), left.pblk(),
                    left.unwritten()));
            leaf.removeAt(i);
        }
    }

    /** Adds an extent over a hole, merging with neighbours in the same leaf where ext4 would. */
    public void insert(Extent x) {
        insert(x, true);
    }

    /**
     * @param mayStartLeaf whether an insert past the end of a full leaf may start a new leaf with
     *                     just this extent (ext4_ext_split's border, good for appends) instead of
     *                     halving the full one
     */
    private void insert(Extent x, boolean mayStartLeaf) {
        for (int guard = 0; guard < 4 * ExtentFormat.MAX_DEPTH + 8; guard++) {
            Path p = findPath(x.lblk());
            int d = p.leafLevel();
            Node leaf = p.nodes[d];
            int i = p.idx[d];
            int n = leaf.entries();
            if (i >= 0) {
                Extent left = leaf.leaf(i);
                if (left.end() > x.lblk()) {
                    throw new IllegalStateException("insert of " + x + " overlaps " + left);
                }
                if (left.canAppend(x)) {
                    Extent merged = new Extent(left.lblk(), left.len() + x.len(), left.pblk(), left.unwritten());
                    if (i + 1 < n && merged.canAppend(leaf.leaf(i + 1))) {
                        Extent right = leaf.leaf(i + 1);
                        setEntry(p, new Extent(merged.lblk(), merged.len() + right.len(), merged.pblk(), merged.unwritten()));
                        p.idx[d] = i + 1;
                        deleteEntry(p);
                    } else {
                        setEntry(p, merged);
                    }
                    return;
                }
            }
            if (i + 1 < n) {
                Extent right = leaf.leaf(i + 1);
                if (x.end() > right.lblk()) {
                    throw new IllegalStateException("insert of " + x + " overlaps " + right);
                }
                if (x.canAppend(right)) {
                    p.idx[d] = i + 1;
                    setEntry(p, new Extent(x.lblk(), x.len() + right.len(), x.pblk(), x.unwritten()));
                    return;
                }
            }
            if (n < leaf.max()) {
                leaf.writable();
                leaf.insertAt(i + 1, 12);
                ExtentFormat.leaf(leaf.buf, leaf.base, i + 1, x);
                if (i + 1 == 0) {
                    correctIndexes(p, d);
                }
                return;
            }
            // the leaf is full
            if (d == 0) {
                growRoot();
            } else if (p.nodes[d - 1].entries() == p.nodes[d - 1].max()) {
                splitIndex(p, d - 1);
            } else if (i + 1 == n && mayStartLeaf) {
                // appending at the right edge: start a new leaf rather than halving this one (ext4_ext_split's border)
                long blk = newNode(leaf.blk, 0);
                Node s = new Node(store.modify(blk), 0, blk);
                s.insertAt(0, 12);
                ExtentFormat.leaf(s.buf, s.base, 0, x);
                insertIndex(p, d - 1, p.idx[d - 1] + 1, x.lblk(), blk);
                return;
            } else {
                splitHalf(p, d);
            }
        }
        throw new IllegalStateException("extent insert did not converge");
    }

    // ---------------------------------------------------------------- structure

    private void setEntry(Path p, Extent e) {
        int d = p.leafLevel();
        Node leaf = p.nodes[d];
        int i = p.idx[d];
        long oldKey = leaf.key(i);
        leaf.writable();
        ExtentFormat.leaf(leaf.buf, leaf.base, i, e);
        if (i == 0 && e.lblk() != oldKey) {
            correctIndexes(p, d);
        }
    }

    private void deleteEntry(Path p) {
        int level = p.leafLevel();
        while (true) {
            Node n = p.nodes[level];
            n.writable();
            n.removeAt(p.idx[level]);
            if (n.entries() > 0) {
                if (p.idx[level] == 0) {
                    correctIndexes(p, level);
                }
                break;
            }
            if (level == 0) {
                break;
            }
            store.freeNode(n.blk);
            level--;
        }
        if (depth() > 0 && ExtentFormat.entries(root, 0) == 0) {
            ExtentFormat.initHeader(root, 0, ROOT_MAX, 0);
            rootChanged = true;
        }
        shrinkRoot();
    }

    /** The inverse of {@link #growRoot}: a root with one child that fits inline takes the child's entries. */
    private void shrinkRoot() {
        while (depth() > 0 && ExtentFormat.entries(root, 0) == 1) {
            long childBlk = ExtentFormat.child(root, 0, 0);
            byte[] c = store.node(childBlk);
            int n = ExtentFormat.entries(c, 0);
            if (n > ROOT_MAX) {
                return;
            }
            int childDepth = ExtentFormat.depth(c, 0);
            System.arraycopy(c, ExtentFormat.HEADER_BYTES, root, ExtentFormat.HEADER_BYTES, n * ExtentFormat.ENTRY_BYTES);
            ExtentFormat.entries(root, 0, n);
            ExtentFormat.depth(root, 0, childDepth);
            rootChanged = true;
            store.freeNode(childBlk);
        }
    }

    /** ext4_ext_grow_indepth: the full root moves into a new block and the root points to it. */
    private void growRoot() {
        int d = depth();
        if (d >= ExtentFormat.MAX_DEPTH) {
            throw new IllegalStateException("extent tree of inode " + ino + " at maximum depth");
        }
        long blk = newNode(0, d);
        byte[] c = store.modify(blk);
        int n = ExtentFormat.entries(root, 0);
        System.arraycopy(root, ExtentFormat.HEADER_BYTES, c, ExtentFormat.HEADER_BYTES, n * ExtentFormat.ENTRY_BYTES);
        count(c, 0, blk, n);
        long firstKey = n > 0 ? ExtentFormat.key(root, 0, 0) : 0;
        ExtentFormat.initHeader(root, 0, ROOT_MAX, d + 1);
        ExtentFormat.index(root, 0, 0, firstKey, blk);
        ExtentFormat.entries(root, 0, 1);
        rootChanged = true;
    }

    private void splitIndex(Path p, int level) {
        if (level == 0) {
            growRoot();
        } else if (p.nodes[level - 1].entries() == p.nodes[level - 1].max()) {
            splitIndex(p, level - 1);
        } else {
            splitHalf(p, level);
        }
    }

    /** Moves the upper half of a full non-root node into a new sibling; the parent has room. */
    private void splitHalf(Path p, int level) {
        Node n = p.nodes[level];
        long blk = newNode(n.blk, n.depth());
        Node s = new Node(store.modify(blk), 0, blk);
        int total = n.entries();
        int keep = total / 2;
        n.writable();
        System.arraycopy(n.buf, ExtentFormat.entryOffset(n.base, keep), s.buf, ExtentFormat.entryOffset(0, 0),
                (total - keep) * ExtentFormat.ENTRY_BYTES);
        count(s.buf, 0, blk, total - keep);
        count(n.buf, n.base, n.blk, keep);
        insertIndex(p, level - 1, p.idx[level - 1] + 1, s.key(0), blk);
    }

    private void insertIndex(Path p, int level, int pos, long key, long child) {
        Node n = p.nodes[level];
        n.writable();
        n.insertAt(pos, 12);
        ExtentFormat.index(n.buf, n.base, pos, key, child);
    }

    private long newNode(long goal, int depth) {
        long blk = store.allocateNode(goal);
        byte[] b = store.modify(blk);
        java.util.Arrays.fill(b, (byte) 0);
        ExtentFormat.initHeader(b, 0, BLOCK_MAX, depth);
        return blk;
    }

    /**
     * ext4_ext_correct_indexes: the first key of the node at {@code level} changed, so the index
     * entries above it take the new key. Keys stay exactly the first key below them, so an extent
     * can never grow, by a merge, into the range of the next node.
     */
    private void correctIndexes(Path p, int level) {
        long key = p.nodes[level].key(0);
        for (int l = level - 1; l >= 0; l--) {
            Node n = p.nodes[l];
            int k = p.idx[l];
            if (n.key(k) != key) {
                n.writable();
                ExtentFormat.key(n.buf, n.base, k, key);
            }
            if (k != 0) {
                break;
            }
        }
    }

    // ---------------------------------------------------------------- split potential

    /** How far a node with {@code entries} is past half full: a split of a full node takes BLOCK_MAX / 2 off. */
    static int over(int entries) {
        return Math.max(0, entries - (BLOCK_MAX - BLOCK_MAX / 2));
    }

    /** Sets a node's entry count, keeping {@link #slack} exact. */
    private void count(byte[] buf, int base, long blk, int n) {
        if (blk >= 0 && slack != null) {
            slack[ExtentFormat.depth(buf, base)] += over(n) - over(ExtentFormat.entries(buf, base));
        }
        ExtentFormat.entries(buf, base, n);
    }

    /** Forgets the counted slack, after the caller put node images back as they were. */
    public void forgetShape() {
        slack = null;
    }

    /**
     * The most extent-node blocks that converting {@code unwrittenBlocks} unwritten blocks of this
     * tree to written can still allocate (see {@link ConversionReserve}).
     */
    public long conversionReserve(long unwrittenBlocks) {
        if (unwrittenBlocks <= 0) {
            return 0;
        }
        if (slack == null) {
            long[] s = new long[ExtentFormat.MAX_DEPTH + 1];
            countSlack(root, 0, s);
            slack = s;
        }
        return ConversionReserve.bound(unwrittenBlocks, depth(), ExtentFormat.entries(root, 0), slack);
    }

    private void countSlack(byte[] b, int base, long[] acc) {
        int d = ExtentFormat.depth(b, base);
        if (d == 0) {
            return;
        }
        for (int i = 0; i < ExtentFormat.entries(b, base); i++) {
            byte[] c = store.node(ExtentFormat.child(b, base, i));
            acc[d - 1] += over(ExtentFormat.entries(c, 0));
            countSlack(c, 0, acc);
        }
    }

    /** The path to the first stored extent that ends after {@code lblk}, or null when there is none. */
    private Path firstEndingAfter(long lblk) {
        Path p = findPath(lblk);
        Extent e = p.current();
        if (e != null && e.end() > lblk) {
            return p;
        }
        return p.next() ? p : null;
    }

    private Path findPath(long lblk) {
        Node n = new Node(root, 0, -1);
        int depth = n.depth();
        if (depth > ExtentFormat.MAX_DEPTH) {
            throw new ExtentCorruptionException("inode " + ino + ": extent tree depth " + depth);
        }
        Path p = new Path(depth + 1);
        for (int level = 0; ; level++) {
            p.nodes[level] = n;
            int entries = n.entries();
            if (n.depth() == 0) {
                p.idx[level] = lastKeyAtMost(n, entries, lblk);
                return p;
            }
            if (entries == 0) {
                throw new ExtentCorruptionException("inode " + ino + ": empty index node " + n.blk);
            }
            int i = Math.max(0, lastKeyAtMost(n, entries, lblk));
            p.idx[level] = i;
            n = p.child(level, i);
        }
    }

    private static int lastKeyAtMost(Node n, int entries, long lblk) {
        int lo = 0;
        int hi = entries - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (n.key(mid) <= lblk) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** A view of one node: the inline root ({@code blk == -1}) or a block. */
    private final class Node {
        byte[] buf;
        final int base;
        final long blk;

        Node(byte[] buf, int base, long blk) {
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

        void writable() {
            if (blk < 0) {
                rootChanged = true;
            } else {
                buf = store.modify(blk);
            }
        }

        void insertAt(int pos, int entryBytes) {
            int n = entries();
            int from = ExtentFormat.entryOffset(base, pos);
            System.arraycopy(buf, from, buf, from + entryBytes, (n - pos) * entryBytes);
            count(buf, base, blk, n + 1);
        }

        void removeAt(int pos) {
            int n = entries();
            int from = ExtentFormat.entryOffset(base, pos + 1);
            System.arraycopy(buf, from, buf, from - ExtentFormat.ENTRY_BYTES, (n - pos - 1) * ExtentFormat.ENTRY_BYTES);
            count(buf, base, blk, n - 1);
        }
    }

    /** Root-to-leaf path with the chosen entry per level; a cursor over leaf entries. */
    private final class Path {
        final Node[] nodes;
        final int[] idx;

        Path(int levels) {
            nodes = new Node[levels];
            idx = new int[levels];
        }

        int leafLevel() {
            return nodes.length - 1;
        }

        Node child(int level, int i) {
            Node parent = nodes[level];
            long blk = ExtentFormat.child(parent.buf, parent.base, i);
            Node c = new Node(store.node(blk), 0, blk);
            if (!ExtentFormat.magicOk(c.buf, 0) || c.depth() != parent.depth() - 1 || c.entries() > c.max()
                    || c.max() != BLOCK_MAX) {
                throw new ExtentCorruptionException("inode " + ino + ": bad extent node at block " + blk);
            }
            return c;
        }

        Extent current() {
            int d = leafLevel();
            int i = idx[d];
            return i >= 0 && i < nodes[d].entries() ? nodes[d].leaf(i) : null;
        }

        /** Moves to the next leaf entry, across leaves; false at the end of the tree. */
        boolean next() {
            int d = leafLevel();
            if (idx[d] + 1 < nodes[d].entries()) {
                idx[d]++;
                return true;
            }
            int level = d - 1;
            while (level >= 0 && idx[level] + 1 >= nodes[level].entries()) {
                level--;
            }
            if (level < 0) {
                return false;
            }
            idx[level]++;
            for (int l = level; l < d; l++) {
                nodes[l + 1] = child(l, idx[l]);
                idx[l + 1] = 0;
            }
            return nodes[d].entries() > 0;
        }
    }
}
