package dionode.node.meta;

import dionode.protocol.LockPolicy;
import java.nio.charset.StandardCharsets;

/**
 * Block 0 of a dionode device. Immutable value; {@link #encode()} and {@link #decode} convert to
 * and from the on-device image.
 *
 * <pre>
 *  0          8        12         16          20      24             32              40
 *  +----------+--------+----------+-----------+-------+--------------+---------------+
 *  | magic    |version | blocksize|sectorsize | flags | total blocks | journal start |
 *  +----------+--------+----------+-----------+-------+--------------+---------------+
 *  40               48            56            64             72              80
 *  | journal blocks | itable start| inode count | bitmap start | bitmap blocks |
 *  80           88             96            97
 *  | data start | created (ms) | def. policy | zeros ...                 4092: CRC32C |
 * </pre>
 * magic is the ASCII "DIONODE1"; flags bit 0 = cleanly unmounted.
 */
public record Superblock(int version, int sectorSize, int flags, Layout layout, long createdMillis, LockPolicy defaultPolicy) {

    public static final byte[] MAGIC = "DIONODE1".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 1;
    public static final int FLAG_CLEAN = 1;
    private static final int CRC_OFFSET = Layout.BLOCK_SIZE - 4;

    public byte[] encode() {
        byte[] b = new byte[Layout.BLOCK_SIZE];
        System.arraycopy(MAGIC, 0, b, 0, 8);
        Bytes.i32(b, 8, version);
        Bytes.i32(b, 12, layout.blockSize());
        Bytes.i32(b, 16, sectorSize);
        Bytes.i32(b, 20, flags);
        Bytes.i64(b, 24, layout.totalBlocks());
        Bytes.i64(b, 32, layout.journalStart());
        Bytes.i64(b, 40, layout.journalBlocks());
        Bytes.i64(b, 48, layout.inodeTableStart());
        Bytes.i64(b, 56, layout.inodeCount());
        Bytes.i64(b, 64, layout.bitmapStart());
        Bytes.i64(b, 72, layout.bitmapBlocks());
        Bytes.i64(b, 80, layout.dataStart());
        Bytes.i64(b, 88, createdMillis);
        b[96] = (byte) defaultPolicy.ordinal();
        Bytes.i32(b, CRC_OFFSET, Bytes.crc(0, b, 0, CRC_OFFSET));
        return b;
    }

    public Superblock withFlags(int newFlags) {
        return new Superblock(version, sectorSize, newFlags, layout, createdMillis, defaultPolicy);
    }

    /**
     * Reads and validates a superblock image against the device it came from.
     *
     * @throws MetadataCorruptException naming what was found instead of a valid dionode superblock
     */
    public static Superblock decode(byte[] b, long deviceBytes) throws MetadataCorruptException {
        for (int i = 0; i < 8; i++) {
            if (b[i] != MAGIC[i]) {
                throw new MetadataCorruptException("not a dionode device: block 0 starts with " + describe(b)
                        + " instead of the magic DIONODE1 (format it with `dionode mkfs`)");
            }
        }
        if (Bytes.i32(b, CRC_OFFSET) != Bytes.crc(0, b, 0, CRC_OFFSET)) {
            throw new MetadataCorruptException("dionode superblock checksum mismatch");
        }
        int version = Bytes.i32(b, 8);
        if (version != VERSION) {
            throw new MetadataCorruptException("dionode superblock version " + version + " (this node reads version " + VERSION + ")");
        }
        int policy = b[96];
        Layout l = new Layout(Bytes.i32(b, 12), Bytes.i64(b, 24), Bytes.i64(b, 32), Bytes.i64(b, 40), Bytes.i64(b, 48),
                Bytes.i64(b, 56), Bytes.i64(b, 64), Bytes.i64(b, 72), Bytes.i64(b, 80));
        String bad = checkLayout(l, deviceBytes);
        if (bad != null || policy < 0 || policy >= LockPolicy.values().length) {
            throw new MetadataCorruptException("dionode superblock has an impossible layout: " + (bad != null ? bad : "policy " + policy));
        }
        return new Superblock(version, Bytes.i32(b, 16), Bytes.i32(b, 20), l, Bytes.i64(b, 88), LockPolicy.values()[policy]);
    }

    private static String checkLayout(Layout l, long deviceBytes) {
        if (l.blockSize() != Layout.BLOCK_SIZE) {
            return "block size " + l.blockSize();
        }
        // division, not multiplication: 2^52 blocks of 4096 bytes would overflow to a device of 0 bytes
        if (l.totalBlocks() < Layout.MIN_BLOCKS || l.totalBlocks() > deviceBytes / Layout.BLOCK_SIZE) {
            return l.totalBlocks() + " blocks on a device of " + deviceBytes + " bytes";
        }
        // every region inside the device (so no sum below can wrap round) and in order
        long total = l.totalBlocks();
        if (l.journalStart() != 1 || l.journalBlocks() < 8 || l.journalBlocks() >= total
                || l.inodeCount() <= 0 || l.inodeCount() % Layout.INODES_PER_BLOCK != 0
                || l.inodeTableBlocks() >= total || l.bitmapBlocks() <= 0 || l.bitmapBlocks() >= total
                || l.inodeTableStart() != l.journalStart() + l.journalBlocks()
                || l.bitmapStart() != l.inodeTableStart() + l.inodeTableBlocks()
                || l.bitmapBlocks() != (total + Layout.BITS_PER_BITMAP_BLOCK - 1) / Layout.BITS_PER_BITMAP_BLOCK
                || l.dataStart() != l.bitmapStart() + l.bitmapBlocks() || l.dataStart() < 0 || l.dataStart() >= total) {
            return "regions out of order or sizes inconsistent: " + l;
        }
        return null;
    }

    private static String describe(byte[] b) {
        boolean zeros = true;
        for (int i = 0; i < 512; i++) {
            zeros &= b[i] == 0;
        }
        if (zeros) {
            return "zeros (an unformatted device)";
        }
        StringBuilder s = new StringBuilder("bytes ");
        for (int i = 0; i < 8; i++) {
            s.append(String.format("%02x", b[i]));
        }
        return s.toString();
    }
}
