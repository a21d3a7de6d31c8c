package dionode.node.extent;

import dionode.node.meta.InodeRecord;
import dionode.node.meta.Layout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * On-device format of extent tree nodes, ext4's {@code ext4_extent_header}/{@code ext4_extent}/
 * {@code ext4_extent_idx}, little-endian. The root lives inline in the inode (the record's 60-byte
 * {@link InodeRecord#ROOT_BYTES} field, like ext4's {@code i_block}); other nodes are whole fs
 * blocks ({@link Layout#BLOCK_SIZE}) ending in a CRC32C. Stateless, thread-safe.
 *
 * <pre>
 * node header (12 bytes)
 *  0        2          4        6        8                  12
 *  +--------+----------+--------+--------+------------------+
 *  | magic  | entries  | max    | depth  | generation (u32) |   magic 0xF30A; depth 0 = leaf
 *  +--------+----------+--------+--------+------------------+
 * leaf entry (12 bytes), from offset 12
 *  0                  4          6             8                  12
 *  +------------------+----------+-------------+------------------+
 *  | lblk (u32)       | len(u16) | pblk hi u16 | pblk lo (u32)    |   len > 32768: unwritten, len-32768
 *  +------------------+----------+-------------+------------------+
 * index entry (12 bytes)
 *  0                  4                  8             10         12
 *  +------------------+------------------+-------------+----------+
 *  | lblk (u32)       | child lo (u32)   | child hi u16| unused   |
 *  +------------------+------------------+-------------+----------+
 * a node block: header, up to 340 entries, then at 4092 a CRC32C of (ino u64, block u64, bytes 0..4092)
 * </pre>
 */
public final class ExtentFormat {
    public static final short MAGIC = (short) 0xF30A;
    public static final int HEADER_BYTES = 12;
    public static final int ENTRY_BYTES = 12;
    public static final int ROOT_MAX = (InodeRecord.ROOT_BYTES - HEADER_BYTES) / ENTRY_BYTES;
    public static final int CRC_OFFSET = Layout.BLOCK_SIZE - 4;
    public static final int BLOCK_MAX = (CRC_OFFSET - HEADER_BYTES) / ENTRY_BYTES;
    /** ext4's EXT4_MAX_EXTENT_DEPTH. */
    public static final int MAX_DEPTH = 5;
    /** Logical block numbers are 32 bits on the device. */
    public static final long MAX_LBLK = 0xFFFF_FFFFL;

    private static final int OFF_MAGIC = 0;
    private static final int OFF_ENTRIES = 2;
    private static final int OFF_MAX = 4;
    private static final int OFF_DEPTH = 6;
    private static final int UNWRITTEN_BIAS = 1 << 15;

    private static final VarHandle U16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private ExtentFormat() {
    }

    /** A leaf entry's fields as stored, before the range checks of {@link Extent}: for validation. */
    record RawLeaf(long lblk, int rawLen, long pblk) {
        boolean unwritten() {
            return rawLen > Extent.MAX_WRITTEN_LEN;
        }

        long len() {
            return unwritten() ? rawLen - Extent.MAX_WRITTEN_LEN : rawLen;
        }
    }

    static int u16(byte[] image, int off) {
        return Short.toUnsignedInt((short) U16.get(image, off));
    }

    static void u16(byte[] image, int off, int value) {
        U16.set(image, off, (short) value);
    }

    static long u32(byte[] image, int off) {
        return Integer.toUnsignedLong((int) U32.get(image, off));
    }

    static void u32(byte[] image, int off, long value) {
        U32.set(image, off, (int) value);
    }

    public static void initHeader(byte[] image, int base, int max, int depth) {
        u16(image, base + OFF_MAGIC, MAGIC & 0xFFFF);
        u16(image, base + OFF_ENTRIES, 0);
        u16(image, base + OFF_MAX, max);
        u16(image, base + OFF_DEPTH, depth);
        u32(image, base + 8, 0);
    }

    public static boolean magicOk(byte[] image, int base) {
        return u16(image, base + OFF_MAGIC) == (MAGIC & 0xFFFF);
    }

    public static int entries(byte[] image, int base) {
        return u16(image, base + OFF_ENTRIES);
    }

    static void entries(byte[] image, int base, int entries) {
        u16(image, base + OFF_ENTRIES, entries);
    }

    public static int max(byte[] image, int base) {
        return u16(image, base + OFF_MAX);
    }

    public static int depth(byte[] image, int base) {
        return u16(image, base + OFF_DEPTH);
    }

    static void depth(byte[] image, int base, int depth) {
        u16(image, base + OFF_DEPTH, depth);
    }

    static int entryOffset(int base, int i) {
        return base + HEADER_BYTES + i * ENTRY_BYTES;
    }

    public static long key(byte[] image, int base, int i) {
        return u32(image, entryOffset(base, i));
    }

    static void key(byte[] image, int base, int i, long lblk) {
        u32(image, entryOffset(base, i), lblk);
    }

    /** Decodes a leaf entry; structural sanity is the validator's job. */
    public static Extent leaf(byte[] image, int base, int i) {
        RawLeaf raw = rawLeaf(image, base, i);
        boolean unwritten = raw.rawLen() > UNWRITTEN_BIAS;
        int len = unwritten ? raw.rawLen() - UNWRITTEN_BIAS : raw.rawLen();
        return new Extent(raw.lblk(), len, raw.pblk(), unwritten);
    }

    /** The raw fields of a leaf entry without the range checks of {@link Extent}, for validation. */
    static RawLeaf rawLeaf(byte[] image, int base, int i) {
        int off = entryOffset(base, i);
        int rawLen = u16(image, off + 4);
        long pblk = ((long) u16(image, off + 6) << 32) | u32(image, off + 8);
        return new RawLeaf(u32(image, off), rawLen, pblk);
    }

    static void leaf(byte[] image, int base, int i, Extent extent) {
        int off = entryOffset(base, i);
        u32(image, off, extent.lblk());
        u16(image, off + 4, extent.unwritten() ? extent.len() + UNWRITTEN_BIAS : extent.len());
        u16(image, off + 6, (int) (extent.pblk() >>> 32));
        u32(image, off + 8, extent.pblk());
    }

    public static long child(byte[] image, int base, int i) {
        int off = entryOffset(base, i);
        return ((long) u16(image, off + 8) << 32) | u32(image, off + 4);
    }

    static void index(byte[] image, int base, int i, long lblk, long child) {
        int off = entryOffset(base, i);
        u32(image, off, lblk);
        u32(image, off + 4, child);
        u16(image, off + 8, (int) (child >>> 32));
        u16(image, off + 10, 0);
    }

    /** Writes the block's CRC32C; seeded with owner and location so a misdirected block fails too. */
    public static void seal(long ino, long blk, byte[] image) {
        U32.set(image, CRC_OFFSET, crc(ino, blk, image));
    }

    public static boolean crcOk(long ino, long blk, byte[] image) {
        return (int) U32.get(image, CRC_OFFSET) == crc(ino, blk, image);
    }

    private static int crc(long ino, long blk, byte[] image) {
        CRC32C crc = new CRC32C();
        byte[] seed = new byte[16];
        U64.set(seed, 0, ino);
        U64.set(seed, 8, blk);
        crc.update(seed);
        crc.update(image, 0, CRC_OFFSET);
        return (int) crc.getValue();
    }
}
