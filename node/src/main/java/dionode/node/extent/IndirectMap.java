package dionode.node.extent;

import static dionode.node.meta.InodeRecord.ROOT_BYTES;

import dionode.node.meta.Bytes;
import dionode.node.meta.Layout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Consumer;

/**
 * The block map of a no-extent file (ext3's, fs/ext4/indirect.c: ext4_ind_map_blocks): direct
 * pointers in the inode, then single, double and triple indirect blocks of pointers. A pointer is
 * a device block or 0 for a hole; there is no unwritten state, which is why a direct write into a
 * hole below i_size cannot allocate and falls back to buffered I/O (ext4_iomap_alloc leaves
 * m_flags 0, the lookup answers 0, iomap returns -ENOTBLK). Confined to the inode's owner.
 *
 * <pre>
 *  inline root (the inode's 60-byte i_block): 15 little-endian u32 block numbers, 0 = hole
 *  0        4                   44        48        52        56        60
 *  +--------+------- ... -------+---------+---------+---------+---------+
 *  | d[0]   |                   | d[11]   | single  | double  | triple  |
 *  +--------+------- ... -------+---------+---------+---------+---------+
 *  d[i] maps logical block i; single points to a level-0 block mapping blocks 12..1035; double to
 *  a level-1 block of 1024 level-0 blocks (1036..1049611); triple to a level-2 block.
 *
 *  pointer block (4096 bytes): 1024 little-endian u32 block numbers, 0 = hole; a level-0 block's
 *  entries are data blocks, a higher level's are pointer blocks one level down. No header and no
 *  checksum, as in ext3: a block read from the device is checked for pointers inside the data area
 *  and for no device block named twice.
 * </pre>
 * A pointer block whose entries all become 0 is freed and its parent's pointer cleared
 * (ext4_free_branches), so no empty pointer block stays allocated.
 */
public final class IndirectMap implements BlockMap {
    /** EXT4_NDIR_BLOCKS */
    public static final int DIRECT = 12;
    /** Pointers per block (EXT4_ADDR_PER_BLOCK). */
    public static final int PER_BLOCK = Layout.BLOCK_SIZE / 4;
    private static final long[] REGION_START = {0, DIRECT, DIRECT + PER_BLOCK, DIRECT + PER_BLOCK + (long) PER_BLOCK * PER_BLOCK};
    /** One past the last logical block the three indirect levels reach. */
    public static final long MAX_BLOCKS = REGION_START[3] + (long) PER_BLOCK * PER_BLOCK * PER_BLOCK;
    private static final int LEVELS = 3;

    private final long ino;
    private final byte[] root;
    private final ExtentNodeStore store;

    /** @param root the inode's 60-byte inline part; the map keeps and edits this very array */
    public IndirectMap(long ino, byte[] root, ExtentNodeStore store) {
        if (root.length != ROOT_BYTES) {
            throw new IllegalArgumentException("root must be " + ROOT_BYTES + " bytes");
        }
        this.ino = ino;
        this.root = root;
        this.store = store;
    }

    /** A root for an empty file: every pointer 0. */
    public static byte[] emptyRoot() {
        return new byte[ROOT_BYTES];
    }

    @Override
    public byte[] root() {
        return root;
    }

    @Override
    public int depth() {
        return LEVELS;
    }

    @Override
    public long maxBlocks() {
        return MAX_BLOCKS;
    }

    @Override
    public boolean hasUnwritten() {
        return false;
    }

    private static long ptr(byte[] image, int i) {
        return Bytes.i32(image, i * 4) & 0xFFFF_FFFFL;
    }

    private static void setPtr(byte[] image, int i, long blk) {
        Bytes.i32(image, i * 4, (int) blk);
    }

    /** Which indirect region (1 single, 2 double, 3 triple) holds logical block {@code lblk}, at least {@link #DIRECT}. */
    private static int region(long lblk) {
        return lblk < REGION_START[2] ? 1 : lblk < REGION_START[3] ? 2 : 3;
    }

    /** Blocks one entry of a level-{@code level} pointer block covers. */
    private static long entrySpan(int level) {
        long span = 1;
        for (int i = 0; i < level; i++) {
            span *= PER_BLOCK;
        }
        return span;
    }

    // ---------------------------------------------------------------- lookups

    /**
     * Where the pointer of logical block {@code pos} lives: a group of pointers (the root's direct
     * ones, or a level-0 block) with the logical block of its first entry; or, when a pointer on
     * the way is 0, the hole up to {@code holeEnd}; or the block to read first.
     */
    private record Locate(byte[] group, long blk, long first, int count, long holeEnd, ExtentMissException.Want missing) {
        boolean hole() {
            return group == null && missing == null;
        }
    }

    /** ext4_block_to_path and ext4_get_branch: the chain of pointers down to {@code pos}. */
    private Locate locate(long pos) {
        if (pos < DIRECT) {
            return new Locate(root, -1, 0, DIRECT, 0, null);
        }
        int region = region(pos);
        long first = REGION_START[region];
        byte[] image = root;
        int slot = DIRECT + region - 1;
        for (int level = region - 1; ; level--) {
            long blk = ptr(image, slot);
            if (blk == 0) {
                return new Locate(null, 0, 0, 0, first + entrySpan(level + 1), null);
            }
            if (!store.resident(blk)) {
                return new Locate(null, 0, 0, 0, 0, new ExtentMissException.Want(blk, level, first));
            }
            image = store.node(blk);
            if (level == 0) {
                return new Locate(image, blk, first, PER_BLOCK, 0, null);
            }
            long span = entrySpan(level);
            slot = (int) ((pos - first) / span);
            first += slot * span;
        }
    }

    @Override
    public Mapping map(long lblk, long maxLen) {
        if (maxLen <= 0) {
            throw new IllegalArgumentException("maxLen " + maxLen);
        }
        long limit = lblk + maxLen;
        if (lblk >= MAX_BLOCKS) {
            return new Mapping(lblk, maxLen, 0, Mapping.State.HOLE);
        }
        Locate at = locate(lblk);
        if (at.missing() != null) {
            throw new ExtentMissException(ino, List.of(at.missing()));
        }
        long pblk = at.hole() ? 0 : ptr(at.group(), (int) (lblk - at.first()));
        long end = lblk;
        while (end < limit && end < MAX_BLOCKS) {
            Locate next = end == lblk ? at : locate(end);
            if (next.missing() != null) {
                break;
            }
            if (next.hole()) {
                if (pblk != 0) {
                    break;
                }
                end = next.holeEnd();
                continue;
            }
            long reached = extendInGroup(next, end, limit, pblk == 0 ? 0 : pblk + (end - lblk));
            if (reached == end) {
                break;
            }
            end = reached;
        }
        if (pblk == 0 && end >= MAX_BLOCKS) {
            end = limit;
        }
        end = Math.min(end, limit);
        return new Mapping(lblk, end - lblk, pblk, pblk == 0 ? Mapping.State.HOLE : Mapping.State.WRITTEN);
    }

    /**
     * How far from {@code pos} the group continues the run: holes when {@code expect} is 0,
     * else pointers {@code expect, expect + 1, ...}.
     */
    private static long extendInGroup(Locate group, long pos, long limit, long expect) {
        int i = (int) (pos - group.first());
        long p = pos;
        while (i < group.count() && p < limit) {
            long blk = ptr(group.group(), i);
            if (expect == 0 ? blk != 0 : blk != expect + (p - pos)) {
                break;
            }
            i++;
            p++;
        }
        return p;
    }

    @Override
    public void forEach(long from, long to, Consumer<Extent> action) {
        runs(from, to, Integer.MAX_VALUE, action);
    }

    @Override
    public List<Extent> extents(long from, long to, int limit) {
        List<Extent> out = new ArrayList<>();
        runs(from, to, limit, out::add);
        return out;
    }

    /**
     * The runs of each pointer group overlapping {@code [from, to)}, unclipped within their group:
     * one run never crosses a group, so a step that touches one run changes one pointer block.
     */
    private void runs(long from, long to, int limit, Consumer<Extent> action) {
        int emitted = 0;
        long pos = Math.max(0, from);
        long stop = Math.min(to, MAX_BLOCKS);
        while (pos < stop && emitted < limit) {
            Locate at = locate(pos);
            if (at.missing() != null) {
                throw new ExtentMissException(ino, List.of(at.missing()));
            }
            if (at.hole()) {
                pos = at.holeEnd();
                continue;
            }
            int i = (int) (pos - at.first());
            while (i > 0 && ptr(at.group(), i) != 0 && ptr(at.group(), i - 1) == ptr(at.group(), i) - 1) {
                i--;
            }
            while (i < at.count() && at.first() + i < stop && emitted < limit) {
                long blk = ptr(at.group(), i);
                if (blk == 0) {
                    i++;
                    continue;
                }
                int len = 1;
                while (i + len < at.count() && ptr(at.group(), i + len) == blk + len) {
                    len++;
                }
                action.accept(new Extent(at.first() + i, len, blk, false));
                emitted++;
                i += len;
            }
            pos = at.first() + at.count();
        }
    }

    /** ext4_find_near: the nearest allocated block before {@code lblk} in its pointer group. */
    @Override
    public Extent lastBefore(long lblk) {
        if (lblk <= 0 || lblk > MAX_BLOCKS) {
            return null;
        }
        Locate at = locate(lblk - 1);
        if (at.group() == null) {
            return null;
        }
        for (int i = (int) (lblk - 1 - at.first()); i >= 0; i--) {
            long blk = ptr(at.group(), i);
            if (blk != 0) {
                return new Extent(at.first() + i, 1, blk, false);
            }
        }
        return null;
    }

    @Override
    public int maxRun(long lblk, boolean unwritten) {
        if (unwritten) {
            throw new IllegalArgumentException("inode " + ino + ": a file without extents cannot hold unwritten blocks");
        }
        if (lblk < DIRECT) {
            return (int) (DIRECT - lblk);
        }
        return (int) (PER_BLOCK - (lblk - REGION_START[region(lblk)]) % PER_BLOCK);
    }

    // ---------------------------------------------------------------- whole-map walks

    @Override
    public List<ExtentMissException.Want> missing() {
        List<ExtentMissException.Want> out = new ArrayList<>();
        for (int region = 1; region <= LEVELS; region++) {
            missingBelow(ptr(root, DIRECT + region - 1), region - 1, REGION_START[region], out);
        }
        return out;
    }

    private void missingBelow(long blk, int level, long first, List<ExtentMissException.Want> out) {
        if (blk == 0) {
            return;
        }
        if (!store.resident(blk)) {
            out.add(new ExtentMissException.Want(blk, level, first));
            return;
        }
        byte[] image = store.node(blk);
        if (level > 0) {
            long span = entrySpan(level);
            for (int i = 0; i < PER_BLOCK; i++) {
                missingBelow(ptr(image, i), level - 1, first + i * span, out);
            }
        }
    }

    @Override
    public void checkBlock(ExtentMissException.Want want, byte[] image, BiPredicate<Long, Long> validRange) {
        Set<Long> named = new HashSet<>();
        for (int i = 0; i < PER_BLOCK; i++) {
            long blk = ptr(image, i);
            if (blk == 0) {
                continue;
            }
            if (!validRange.test(blk, 1L)) {
                throw new ExtentCorruptionException("inode " + ino + ": indirect block " + want.blk() + " entry " + i
                        + " points to block " + blk + ", outside the data area");
            }
            if (!named.add(blk)) {
                throw new ExtentCorruptionException("inode " + ino + ": indirect block " + want.blk() + " names block " + blk
                        + " twice");
            }
        }
    }

    @Override
    public ExtentCheck validate(BiPredicate<Long, Long> validRange, PhysicalVisitor visitor) {
        Totals totals = new Totals();
        checkGroup(root, -1, 0, DIRECT, validRange, visitor, totals);
        for (int region = 1; region <= LEVELS; region++) {
            validateBelow(ptr(root, DIRECT + region - 1), region - 1, REGION_START[region], validRange, visitor, totals);
        }
        return new ExtentCheck(totals.runs, totals.written, 0, totals.nodes, totals.end);
    }

    private static final class Totals {
        long runs;
        long written;
        long nodes;
        long end;
    }

    private void validateBelow(long blk, int level, long first, BiPredicate<Long, Long> validRange, PhysicalVisitor visitor,
            Totals totals) {
        if (blk == 0) {
            return;
        }
        if (!validRange.test(blk, 1L)) {
            throw new ExtentCorruptionException("inode " + ino + ": indirect pointer to block " + blk + " outside the data area");
        }
        byte[] image = store.node(blk);
        totals.nodes++;
        visitor.visit(blk, 1, true);
        if (level == 0) {
            checkGroup(image, blk, first, PER_BLOCK, validRange, visitor, totals);
            return;
        }
        long span = entrySpan(level);
        for (int i = 0; i < PER_BLOCK; i++) {
            validateBelow(ptr(image, i), level - 1, first + i * span, validRange, visitor, totals);
        }
    }

    /** The data pointers of one group: inside the data area, claimed as runs. */
    private void checkGroup(byte[] image, long blk, long first, int count, BiPredicate<Long, Long> validRange,
            PhysicalVisitor visitor, Totals totals) {
        for (int i = 0; i < count; ) {
            long pblk = ptr(image, i);
            if (pblk == 0) {
                i++;
                continue;
            }
            int len = 1;
            while (i + len < count && ptr(image, i + len) == pblk + len) {
                len++;
            }
            if (!validRange.test(pblk, (long) len)) {
                throw new ExtentCorruptionException("inode " + ino + (blk < 0 ? " inode block map" : " indirect block " + blk)
                        + ": logical blocks " + (first + i) + ".." + (first + i + len - 1) + " map outside the data area");
            }
            visitor.visit(pblk, len, false);
            totals.runs++;
            totals.written += len;
            totals.end = Math.max(totals.end, first + i + len);
            i += len;
        }
    }

    // ---------------------------------------------------------------- changes

    @Override
    public void seal(long blk, byte[] image) {
        // ext3's pointer blocks carry no checksum
    }

    @Override
    public List<Extent> replace(long from, long to, List<Extent> with) {
        if (from < 0 || from > to) {
            throw new IllegalArgumentException("range [" + from + ", " + to + ")");
        }
        List<Extent> removed = new ArrayList<>();
        removeRange(from, Math.min(to, MAX_BLOCKS), removed);
        long prevEnd = from;
        for (Extent run : with) {
            if (run.unwritten() || run.lblk() < prevEnd || run.end() > Math.min(to, MAX_BLOCKS)) {
                throw new IllegalArgumentException("replacement " + run + " is unwritten, unsorted or outside [" + from + ", "
                        + Math.min(to, MAX_BLOCKS) + ")");
            }
            prevEnd = run.end();
            for (long lblk = run.lblk(); lblk < run.end(); ) {
                lblk = setRun(lblk, run.pblk() + (lblk - run.lblk()), run.end());
            }
        }
        return removed;
    }

    /** ext4_ind_remove_space: clears the pointers of {@code [from, to)}, freeing pointer blocks left empty. */
    private void removeRange(long from, long to, List<Extent> removed) {
        if (from >= to) {
            return;
        }
        if (from < DIRECT) {
            clearGroup(root, -1, 0, DIRECT, from, to, removed);
        }
        for (int region = 1; region <= LEVELS; region++) {
            long start = REGION_START[region];
            long end = start + entrySpan(region);
            if (from < end && to > start) {
                removeBelow(root, -1, DIRECT + region - 1, region - 1, start, from, to, removed);
            }
        }
    }

    private void removeBelow(byte[] parent, long parentBlk, int slot, int level, long first, long from, long to,
            List<Extent> removed) {
        long blk = ptr(parent, slot);
        if (blk == 0) {
            return;
        }
        if (!store.resident(blk)) {
            throw new ExtentMissException(ino, List.of(new ExtentMissException.Want(blk, level, first)));
        }
        byte[] image = store.node(blk);
        if (level == 0) {
            clearGroup(image, blk, first, PER_BLOCK, from, to, removed);
        } else {
            long span = entrySpan(level);
            int lo = (int) Math.max(0, (from - first) / span);
            int hi = (int) Math.min(PER_BLOCK - 1, (to - 1 - first) / span);
            for (int i = lo; i <= hi; i++) {
                removeBelow(image, blk, i, level - 1, first + i * span, from, to, removed);
            }
        }
        if (allZero(image)) {
            store.freeNode(blk);
            setPtr(writable(parent, parentBlk), slot, 0);
        }
    }

    private void clearGroup(byte[] image, long blk, long first, int count, long from, long to, List<Extent> removed) {
        int lo = (int) Math.max(0, from - first);
        int hi = (int) Math.min(count, to - first);
        byte[] live = image;
        boolean changed = false;
        for (int i = lo; i < hi; i++) {
            long pblk = ptr(live, i);
            if (pblk == 0) {
                continue;
            }
            if (!changed) {
                live = writable(image, blk);
                changed = true;
            }
            setPtr(live, i, 0);
            addRemoved(removed, first + i, pblk);
        }
    }

    private static void addRemoved(List<Extent> removed, long lblk, long pblk) {
        if (!removed.isEmpty()) {
            Extent last = removed.get(removed.size() - 1);
            if (last.end() == lblk && last.pend() == pblk && last.len() < Extent.MAX_WRITTEN_LEN) {
                removed.set(removed.size() - 1, new Extent(last.lblk(), last.len() + 1, last.pblk(), false));
                return;
            }
        }
        removed.add(new Extent(lblk, 1, pblk, false));
    }

    /**
     * ext4_alloc_branch and ext4_splice_branch: points {@code [lblk, end)}, as far as its pointer
     * group reaches, at {@code pblk...}, allocating the pointer blocks on the way that are missing.
     *
     * @return where the group ended
     */
    private long setRun(long lblk, long pblk, long end) {
        if (lblk < DIRECT) {
            return fill(root, -1, 0, DIRECT, lblk, pblk, end);
        }
        int region = region(lblk);
        long first = REGION_START[region];
        byte[] image = root;
        long imageBlk = -1;
        int slot = DIRECT + region - 1;
        for (int level = region - 1; ; level--) {
            long blk = ptr(image, slot);
            byte[] child;
            if (blk == 0) {
                blk = store.allocateNode(pblk);
                setPtr(writable(image, imageBlk), slot, blk);
                child = store.modify(blk);
            } else {
                if (!store.resident(blk)) {
                    throw new ExtentMissException(ino, List.of(new ExtentMissException.Want(blk, level, first)));
                }
                child = store.node(blk);
            }
            if (level == 0) {
                return fill(child, blk, first, PER_BLOCK, lblk, pblk, end);
            }
            long span = entrySpan(level);
            slot = (int) ((lblk - first) / span);
            first += slot * span;
            image = child;
            imageBlk = blk;
        }
    }

    private long fill(byte[] image, long blk, long first, int count, long lblk, long pblk, long end) {
        byte[] live = writable(image, blk);
        long stop = Math.min(end, first + count);
        for (long at = lblk; at < stop; at++) {
            int i = (int) (at - first);
            if (ptr(live, i) != 0) {
                throw new IllegalStateException("inode " + ino + ": logical block " + at + " is mapped already");
            }
            setPtr(live, i, pblk + (at - lblk));
        }
        return stop;
    }

    /** The image to change: the root as it is, a pointer block through the store (the running handle). */
    private byte[] writable(byte[] image, long blk) {
        return blk < 0 ? image : store.modify(blk);
    }

    private static boolean allZero(byte[] image) {
        for (int i = 0; i < image.length; i += 8) {
            if (Bytes.i64(image, i) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public long convertState(long from, long to, boolean unwritten) {
        if (unwritten) {
            throw new IllegalArgumentException("inode " + ino + ": a file without extents cannot hold unwritten blocks");
        }
        return 0;
    }

    @Override
    public void forgetShape() {
        // no counted shape: a pointer block never splits
    }

    @Override
    public long conversionReserve(long unwrittenBlocks) {
        return 0;
    }
}
