package dionode.node.extent;

import static dionode.node.extent.ExtentFormat.BLOCK_MAX;
import static dionode.node.extent.ExtentFormat.ROOT_MAX;

import java.util.Arrays;
import java.util.Comparator;
import java.util.function.BiPredicate;

/**
 * One whole-tree check, as mount and fsck run it: what ext4's {@code ext4_ext_check} and
 * {@code check_block_validity} do, over every node: headers, depths, ordering, keys against their
 * index bounds, extent lengths, and (through {@code validRange}) that every node and extent lies
 * inside the data area. It totals what it walked into an {@link ExtentCheck}. One walk per
 * instance; confined to the caller.
 */
final class ExtentValidator {
    private final long ino;
    private final ExtentNodeStore store;
    private final BiPredicate<Long, Long> validRange;
    private final BlockMap.PhysicalVisitor visitor;
    private long extents;
    private long writtenBlocks;
    private long unwrittenBlocks;
    private long nodeBlocks;
    private long endBlock = -1;

    ExtentValidator(long ino, ExtentNodeStore store, BiPredicate<Long, Long> validRange, BlockMap.PhysicalVisitor visitor) {
        this.ino = ino;
        this.store = store;
        this.validRange = validRange;
        this.visitor = visitor;
    }

    /** @throws ExtentCorruptionException naming the first problem */
    ExtentCheck check(byte[] root) {
        int depth = ExtentFormat.depth(root, 0);
        if (!ExtentFormat.magicOk(root, 0) || ExtentFormat.max(root, 0) != ROOT_MAX
                || ExtentFormat.entries(root, 0) > ROOT_MAX || depth > ExtentFormat.MAX_DEPTH) {
            throw new ExtentCorruptionException("inode " + ino + ": bad extent root header");
        }
        walk(root, 0, -1, depth, 0, ExtentFormat.MAX_LBLK + 1);
        return new ExtentCheck(extents, writtenBlocks, unwrittenBlocks, nodeBlocks, Math.max(0, endBlock));
    }

    private void walk(byte[] image, int base, long blk, int expectDepth, long lo, long hi) {
        String where = "inode " + ino + (blk < 0 ? " root" : " node " + blk);
        int entries = ExtentFormat.entries(image, base);
        if (ExtentFormat.depth(image, base) != expectDepth || entries > ExtentFormat.max(image, base)
                || (blk >= 0 && entries == 0)) {
            throw new ExtentCorruptionException(where + ": bad header (depth " + ExtentFormat.depth(image, base)
                    + ", entries " + entries + ")");
        }
        long prev = lo - 1;
        for (int i = 0; i < entries; i++) {
            long key = ExtentFormat.key(image, base, i);
            boolean firstMayBeLower = i == 0;
            if (key <= prev || key >= hi || (!firstMayBeLower && key < lo)) {
                throw new ExtentCorruptionException(where + ": key " + key + " out of order or outside [" + lo + ", " + hi + ")");
            }
            if (expectDepth == 0) {
                prev = checkLeafEntry(where, ExtentFormat.rawLeaf(image, base, i), lo, hi);
            } else {
                long child = ExtentFormat.child(image, base, i);
                long childHi = i + 1 < entries ? ExtentFormat.key(image, base, i + 1) : hi;
                if (!validRange.test(child, 1L)) {
                    throw new ExtentCorruptionException(where + ": index points to block " + child + " outside the data area");
                }
                byte[] childImage = store.node(child);
                if (!ExtentFormat.magicOk(childImage, 0) || ExtentFormat.max(childImage, 0) != BLOCK_MAX
                        || ExtentFormat.entries(childImage, 0) == 0 || ExtentFormat.key(childImage, 0, 0) != key) {
                    throw new ExtentCorruptionException("inode " + ino + " node " + child
                            + ": bad magic, max, or first key other than its index key " + key);
                }
                visitor.visit(child, 1, true);
                nodeBlocks++;
                walk(childImage, 0, child, expectDepth - 1, Math.max(lo, key), childHi);
                prev = key;
            }
        }
    }

    /** See {@link ExtentTree#checkBlock}. */
    static void checkBlock(long ino, ExtentMissException.Want want, byte[] image, BiPredicate<Long, Long> validRange) {
        long blk = want.blk();
        String where = "inode " + ino + " extent block " + blk;
        if (!ExtentFormat.crcOk(ino, blk, image)) {
            throw new ExtentCorruptionException(where + ": checksum mismatch");
        }
        int depth = ExtentFormat.depth(image, 0);
        int entries = ExtentFormat.entries(image, 0);
        if (!ExtentFormat.magicOk(image, 0) || ExtentFormat.max(image, 0) != BLOCK_MAX || entries == 0 || entries > BLOCK_MAX
                || depth >= ExtentFormat.MAX_DEPTH || (want.depth() >= 0 && depth != want.depth())) {
            throw new ExtentCorruptionException(where + ": bad header (depth " + depth + ", entries " + entries + ")");
        }
        if (want.key() >= 0 && ExtentFormat.key(image, 0, 0) != want.key()) {
            throw new ExtentCorruptionException(where + ": first key " + ExtentFormat.key(image, 0, 0) + " is not its index key "
                    + want.key());
        }
        long prevEnd = -1;
        long[][] physical = new long[entries][];
        for (int i = 0; i < entries; i++) {
            long key = ExtentFormat.key(image, 0, i);
            if (key < prevEnd || (i > 0 && key == ExtentFormat.key(image, 0, i - 1))) {
                throw new ExtentCorruptionException(where + ": key " + key + " out of order");
            }
            if (depth > 0) {
                long child = ExtentFormat.child(image, 0, i);
                if (!validRange.test(child, 1L)) {
                    throw new ExtentCorruptionException(where + ": index points to block " + child + " outside the data area");
                }
                physical[i] = new long[] {child, 1};
                prevEnd = key + 1;
            } else {
                ExtentFormat.RawLeaf leaf = ExtentFormat.rawLeaf(image, 0, i);
                if (leaf.len() == 0 || leaf.pblk() <= 0) {
                    throw new ExtentCorruptionException(where + ": empty extent or block 0 at logical block " + key);
                }
                physical[i] = new long[] {leaf.pblk(), leaf.len()};
                prevEnd = key + leaf.len();
            }
        }
        checkNoOverlap(where, physical);
    }

    /** No two entries of one block claim the same device block (two children, or two extents' data). */
    private static void checkNoOverlap(String where, long[][] physical) {
        long[][] sorted = physical.clone();
        Arrays.sort(sorted, Comparator.comparingLong(r -> r[0]));
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i][0] < sorted[i - 1][0] + sorted[i - 1][1]) {
                throw new ExtentCorruptionException(where + ": device blocks from " + sorted[i][0] + " are claimed twice");
            }
        }
    }

    /** Checks and counts one leaf entry; returns its last logical block. */
    private long checkLeafEntry(String where, ExtentFormat.RawLeaf entry, long lo, long hi) {
        long key = entry.lblk();
        long len = entry.len();
        long pblk = entry.pblk();
        if (len == 0 || key < lo || key + len > hi || pblk <= 0 || !validRange.test(pblk, len)) {
            throw new ExtentCorruptionException(where + ": extent lblk " + key + " len " + len + " pblk " + pblk
                    + " is invalid or outside the data area");
        }
        visitor.visit(pblk, len, false);
        extents++;
        if (entry.unwritten()) {
            unwrittenBlocks += len;
        } else {
            writtenBlocks += len;
        }
        endBlock = Math.max(endBlock, key + len);
        return key + len - 1;
    }
}
