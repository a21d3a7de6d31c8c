package dionode.node.meta;

import dionode.protocol.LockPolicy;
import java.nio.charset.StandardCharsets;

/**
 * One inode as stored in the inode table (ext4's {@code struct ext4_inode}, much smaller; the flat
 * namespace keeps each file's name in its inode). Immutable value except {@code root}, which is
 * copied on encode and decode.
 *
 * <pre>
 *  0       2       4        8            12     13      14      16          24            32
 *  +-------+-------+--------+------------+------+-------+-------+-----------+-------------+
 *  | magic | mode  | flags  | generation |policy|namelen| owner | i_size    | i_disksize  |
 *  +-------+-------+--------+------------+------+-------+-------+-----------+-------------+
 *  32        40          48          56           64                    124          252     256
 *  | blocks  | mtime ns  | ctime ns  | crtime ns  | extent root (60 B)  | name (128) | CRC32C |
 * </pre>
 * flags (u32): bit 0 orphan, bit 1 unlinked, bit 2 DAX (EXT4_DAX_FL: data through the device's
 * mapping), bit 3 identity, bit 4 indirect (no EXT4_EXTENTS_FL: the 60-byte root holds ext3's 15
 * block pointers, node.extent's IndirectMap, instead of an extent tree's root); images from
 * before DAX, identities or indirect files have those bits clear and mount as they were.
 * magic 0x1D0E marks a record in use; a free record is all zeros but its generation (that of the
 * number's last file, so the next one differs) and its CRC. The CRC32C is seeded with the inode
 * number, so a record copied to another slot fails. owner is the inode number of the identity
 * record of the client that created the file, 0 for anonymous (a record flagged
 * {@link #FLAG_IDENTITY}: the identity's name in the name field, no data; they take the lowest
 * free numbers, so any fits 16 bits); images from before owners have 0 there: anonymous.
 */
public record InodeRecord(long ino, int flags, int mode, int generation, LockPolicy policy, long size, long disksize,
        long blocks, long mtimeNanos, long ctimeNanos, long crtimeNanos, byte[] root, String name, int owner) {

    public static final int MAGIC = 0x1D0E;
    /** On the orphan list: blocks past i_disksize are freed at mount (ext4's orphan handling). */
    public static final int FLAG_ORPHAN = 1;
    /** Unlinked while its blocks were being freed: the whole inode goes at mount. */
    public static final int FLAG_UNLINKED = 1 << 1;
    /** A DAX file (EXT4_DAX_FL): its data is read and written through the mapped device, never by block I/O. */
    public static final int FLAG_DAX = 1 << 2;
    /** Not a file: the record of a client identity that owns files (its name is the identity). */
    public static final int FLAG_IDENTITY = 1 << 3;
    /** A file without extents: the root field is an ext3-style block map (DESIGN §4). */
    public static final int FLAG_INDIRECT = 1 << 4;
    /** Owner numbers are 16 bits: identity records never take a number above this. */
    public static final int MAX_OWNER = 0xFFFF;
    public static final int MAX_NAME_BYTES = 128;
    /**
     * The extent root field (ext4's {@code i_block}): bytes this record stores as they are; their
     * format is node.extent's, which takes its root size from here.
     */
    public static final int ROOT_BYTES = 60;
    /** Permission bits plus setuid (04000) and setgid (02000). */
    public static final int MODE_MASK = 07777;
    public static final int S_ISUID = 04000;
    public static final int S_ISGID = 02000;

    private static final int OFF_GENERATION = 8;
    private static final int OFF_OWNER = 14;
    private static final int OFF_ROOT = 64;
    private static final int OFF_NAME = 124;
    private static final int OFF_CRC = Layout.INODE_BYTES - 4;

    public boolean orphan() {
        return (flags & FLAG_ORPHAN) != 0;
    }

    public boolean identity() {
        return (flags & FLAG_IDENTITY) != 0;
    }

    public boolean unlinked() {
        return (flags & FLAG_UNLINKED) != 0;
    }

    public static int nameBytes(String name) {
        return name.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Writes this record into its slot of a table block image, CRC included. */
    public void encodeInto(byte[] block, int off) {
        java.util.Arrays.fill(block, off, off + Layout.INODE_BYTES, (byte) 0);
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > MAX_NAME_BYTES || root.length != ROOT_BYTES) {
            throw new IllegalArgumentException("name of " + utf8.length + " bytes or bad root");
        }
        Bytes.u16(block, off, MAGIC);
        Bytes.u16(block, off + 2, mode & MODE_MASK);
        Bytes.i32(block, off + 4, flags);
        Bytes.i32(block, off + OFF_GENERATION, generation);
        block[off + 12] = (byte) policy.ordinal();
        block[off + 13] = (byte) utf8.length;
        Bytes.u16(block, off + OFF_OWNER, owner);
        Bytes.i64(block, off + 16, size);
        Bytes.i64(block, off + 24, disksize);
        Bytes.i64(block, off + 32, blocks);
        Bytes.i64(block, off + 40, mtimeNanos);
        Bytes.i64(block, off + 48, ctimeNanos);
        Bytes.i64(block, off + 56, crtimeNanos);
        System.arraycopy(root, 0, block, off + OFF_ROOT, ROOT_BYTES);
        System.arraycopy(utf8, 0, block, off + OFF_NAME, utf8.length);
        seal(block, off, ino);
    }

    /** A free slot: zeros but the generation of the number's last file, and a valid CRC. */
    public static void encodeFree(byte[] block, int off, long ino, int generation) {
        java.util.Arrays.fill(block, off, off + Layout.INODE_BYTES, (byte) 0);
        Bytes.i32(block, off + OFF_GENERATION, generation);
        seal(block, off, ino);
    }

    static void seal(byte[] block, int off, long ino) {
        Bytes.i32(block, off + OFF_CRC, Bytes.crc(ino, block, off, OFF_CRC));
    }

    public static boolean inUse(byte[] block, int off) {
        return Bytes.u16(block, off) == MAGIC;
    }

    /**
     * The name in an in-use slot whose record failed {@link #decode}, when the name field still
     * reads as a valid name; null otherwise (or for an unlinked inode). Only for the namespace, so
     * that the file is found by name and answers EFSCORRUPTED instead of vanishing (and its name is
     * not given to a new file); nothing else of such a record is ever used.
     */
    public static String salvageName(byte[] block, int off) {
        if (Bytes.u16(block, off) != MAGIC || (Bytes.i32(block, off + 4) & FLAG_UNLINKED) != 0) {
            return null;
        }
        int len = Byte.toUnsignedInt(block[off + 13]);
        return FileNames.check(block, off + OFF_NAME, len) == null ? FileNames.decode(block, off + OFF_NAME, len) : null;
    }

    /** The name bytes stored in a slot, as many as its length field says (at most the name field). */
    public static byte[] nameBytes(byte[] block, int off) {
        int len = Math.min(Byte.toUnsignedInt(block[off + 13]), MAX_NAME_BYTES);
        return java.util.Arrays.copyOfRange(block, off + OFF_NAME, off + OFF_NAME + len);
    }

    /**
     * The generation stored in a slot, in use or free: a free slot keeps the generation of the
     * last file that had the number, so the next file there gets a different one.
     */
    public static int generation(byte[] block, int off) {
        return Bytes.i32(block, off + OFF_GENERATION);
    }

    /**
     * Decodes and validates a slot; null for a valid free slot.
     *
     * @throws MetadataCorruptException on a bad CRC or impossible fields
     */
    public static InodeRecord decode(byte[] block, int off, long ino) throws MetadataCorruptException {
        if (Bytes.i32(block, off + OFF_CRC) != Bytes.crc(ino, block, off, OFF_CRC)) {
            throw new MetadataCorruptException("inode " + ino + ": record checksum mismatch");
        }
        int magic = Bytes.u16(block, off);
        if (magic == 0) {
            for (int i = 0; i < OFF_CRC; i++) {
                if (block[off + i] != 0 && (i < OFF_GENERATION || i >= OFF_GENERATION + 4)) {
                    throw new MetadataCorruptException("inode " + ino + ": free record with data in it");
                }
            }
            return null;
        }
        if (magic != MAGIC) {
            throw new MetadataCorruptException("inode " + ino + ": bad record magic " + Integer.toHexString(magic));
        }
        int policy = block[off + 12];
        int nameLen = Byte.toUnsignedInt(block[off + 13]);
        long size = Bytes.i64(block, off + 16);
        long disksize = Bytes.i64(block, off + 24);
        // an empty or otherwise invalid name is judged by mount (bad-name), not here
        if (policy < 0 || policy >= LockPolicy.values().length || nameLen > MAX_NAME_BYTES
                || size < 0 || disksize < 0 || disksize > size && (Bytes.i32(block, off + 4) & FLAG_ORPHAN) == 0) {
            throw new MetadataCorruptException("inode " + ino + ": impossible fields (policy " + policy + ", name length "
                    + nameLen + ", size " + size + ", disksize " + disksize + ")");
        }
        byte[] root = new byte[ROOT_BYTES];
        System.arraycopy(block, off + OFF_ROOT, root, 0, root.length);
        String name = new String(block, off + OFF_NAME, nameLen, StandardCharsets.UTF_8);
        return new InodeRecord(ino, Bytes.i32(block, off + 4), Bytes.u16(block, off + 2), Bytes.i32(block, off + OFF_GENERATION),
                LockPolicy.values()[policy], size, disksize, Bytes.i64(block, off + 32), Bytes.i64(block, off + 40),
                Bytes.i64(block, off + 48), Bytes.i64(block, off + 56), root, name, Bytes.u16(block, off + OFF_OWNER));
    }
}
