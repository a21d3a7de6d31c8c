package dionode.node.meta;

/**
 * Where each region of a dionode device lives, in fs blocks. Immutable.
 *
 * <pre>
 * block 0                 superblock
 * [journalStart, +journalBlocks)         jbd2-style metadata journal (node.journal)
 * [inodeTableStart, +inodeTableBlocks)   16 inode records of 256 bytes per block
 * [bitmapStart, +bitmapBlocks)           allocation bitmap: 32736 bits per block, CRC32C at 4092
 * [dataStart, totalBlocks)               extent tree nodes and file data
 * </pre>
 */
public record Layout(int blockSize, long totalBlocks, long journalStart, long journalBlocks, long inodeTableStart,
        long inodeCount, long bitmapStart, long bitmapBlocks, long dataStart) {

    /**
     * The fs block size, the one definition of it: every block of the layout, every journaled
     * metadata image (node.journal) and every extent node (node.extent) is this long.
     */
    public static final int BLOCK_SIZE = 4096;
    public static final int INODE_BYTES = 256;
    public static final int INODES_PER_BLOCK = BLOCK_SIZE / INODE_BYTES;
    /** Bits per bitmap block: the last 4 bytes hold its CRC32C. */
    public static final int BITS_PER_BITMAP_BLOCK = (BLOCK_SIZE - 4) * 8;
    public static final long MIN_BLOCKS = 4096;

    /** The layout mkfs writes for a device of {@code deviceBytes}; {@code inodes} 0 = scale with size. */
    public static Layout forDevice(long deviceBytes, long inodes) {
        long total = deviceBytes / BLOCK_SIZE;
        if (total < MIN_BLOCKS) {
            throw new IllegalArgumentException("device of " + deviceBytes + " bytes is smaller than the minimum of "
                    + MIN_BLOCKS * BLOCK_SIZE + " bytes");
        }
        long journal = Math.min(8192, Math.max(1024, total / 64));
        long inodeCount = inodes > 0 ? inodes : Math.min(65536, Math.max(256, total / 64));
        inodeCount = (inodeCount + INODES_PER_BLOCK - 1) / INODES_PER_BLOCK * INODES_PER_BLOCK;
        long tableBlocks = inodeCount / INODES_PER_BLOCK;
        long bitmaps = (total + BITS_PER_BITMAP_BLOCK - 1) / BITS_PER_BITMAP_BLOCK;
        long journalStart = 1;
        long tableStart = journalStart + journal;
        long bitmapStart = tableStart + tableBlocks;
        long dataStart = bitmapStart + bitmaps;
        if (dataStart + 16 > total) {
            throw new IllegalArgumentException("device too small for " + inodeCount + " inodes");
        }
        return new Layout(BLOCK_SIZE, total, journalStart, journal, tableStart, inodeCount, bitmapStart, bitmaps, dataStart);
    }

    public long inodeTableBlocks() {
        return inodeCount / INODES_PER_BLOCK;
    }

    public long dataBlocks() {
        return totalBlocks - dataStart;
    }

    /** check_block_validity: a data or extent-node range must lie wholly in the data area. */
    public boolean inDataArea(long pblk, long len) {
        return len > 0 && pblk >= dataStart && pblk + len <= totalBlocks && pblk + len > pblk;
    }

    /** The table block holding inode {@code ino} (inode numbers start at 1). */
    public long inodeBlock(long ino) {
        return inodeTableStart + (ino - 1) / INODES_PER_BLOCK;
    }

    public int inodeOffset(long ino) {
        return (int) ((ino - 1) % INODES_PER_BLOCK) * INODE_BYTES;
    }
}
