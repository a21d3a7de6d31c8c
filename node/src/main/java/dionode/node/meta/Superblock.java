package dionode.node.meta;

import dionode.protocol.LockPolicy;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Block 0 of a dionode device. Immutable value; {@link #encode()} and {@link #decode} convert to
 * and from the on-device image.
 *
 * <pre>
 *  0          8        12         16          20      24             32              40
 *  +----------+--------+----------+-----------+-------+--------------+---------------+
 *  | magic    |version | blocksize|sectorsize | state | total blocks | journal start |
 *  +----------+--------+----------+-----------+-------+--------------+---------------+
 *  40               48            56            64             72              80
 *  | journal blocks | itable start| inode count | bitmap start | bitmap blocks |
 *  80           88             96            97      104               112           120
 *  | data start | created (ms) | def. policy | zeros | last mount (ms) | mount count |
 *  120              128                        144
 *  | unclean mounts | volume id (UUID, 16 bytes) | zeros ...              4092: CRC32C |
 * </pre>
 * magic is the ASCII "DIONODE1"; state is 1 = clean (unmounted cleanly), 0 = mounted (ext4's
 * s_state with EXT4_VALID_FS). Version 1 had neither the name nor the three counters at 104..128
 * (zeros there); version 2 had no volume id (ext4's s_uuid), which names the volume among a
 * cluster's. Mount rewrites an older superblock as version 3, giving it a volume id.
 */
public record Superblock(int version, int sectorSize, State state, Layout layout, long createdMillis,
        LockPolicy defaultPolicy, long lastMountMillis, long mountCount, long uncleanMounts, UUID volumeId) {

    public static final byte[] MAGIC = "DIONODE1".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 3;
    /** The oldest version this node reads (and upgrades at mount). */
    public static final int MIN_VERSION = 1;
    private static final int CRC_OFFSET = Layout.BLOCK_SIZE - 4;

    /** Whether the device was unmounted cleanly; on disk the u32 at offset 20. */
    public enum State {
        /** In use by a node, or the node died without unmounting: the next mount finds it so. */
        MOUNTED(0),
        /** Written at a clean unmount after the journal checkpoint, and by mkfs. */
        CLEAN(1);

        /** The on-disk value (version 1's flags word, bit 0 = cleanly unmounted). */
        final int code;

        State(int code) {
            this.code = code;
        }

        static State of(int code) {
            for (State s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            return null;
        }

        /** Lower case, as fsck prints it. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The superblock mkfs writes: clean, never mounted. */
    public static Superblock fresh(int sectorSize, Layout layout, long createdMillis, LockPolicy defaultPolicy) {
        return new Superblock(VERSION, sectorSize, State.CLEAN, layout, createdMillis, defaultPolicy, 0, 0, 0, UUID.randomUUID());
    }

    public byte[] encode() {
        byte[] image = new byte[Layout.BLOCK_SIZE];
        System.arraycopy(MAGIC, 0, image, 0, 8);
        Bytes.i32(image, 8, version);
        Bytes.i32(image, 12, layout.blockSize());
        Bytes.i32(image, 16, sectorSize);
        Bytes.i32(image, 20, state.code);
        Bytes.i64(image, 24, layout.totalBlocks());
        Bytes.i64(image, 32, layout.journalStart());
        Bytes.i64(image, 40, layout.journalBlocks());
        Bytes.i64(image, 48, layout.inodeTableStart());
        Bytes.i64(image, 56, layout.inodeCount());
        Bytes.i64(image, 64, layout.bitmapStart());
        Bytes.i64(image, 72, layout.bitmapBlocks());
        Bytes.i64(image, 80, layout.dataStart());
        Bytes.i64(image, 88, createdMillis);
        image[96] = (byte) defaultPolicy.ordinal();
        Bytes.i64(image, 104, lastMountMillis);
        Bytes.i64(image, 112, mountCount);
        Bytes.i64(image, 120, uncleanMounts);
        if (volumeId != null) {
            Bytes.i64(image, 128, volumeId.getMostSignificantBits());
            Bytes.i64(image, 136, volumeId.getLeastSignificantBits());
        }
        Bytes.i32(image, CRC_OFFSET, Bytes.crc(0, image, 0, CRC_OFFSET));
        return image;
    }

    /**
     * What a read-write mount writes before it serves (ext4_setup_super): state mounted, this
     * mount's time, one more mount, one more unclean one if the last shutdown was, the current
     * version, and a volume id if an older version had none.
     */
    public Superblock mounted(long nowMillis) {
        return new Superblock(VERSION, sectorSize, State.MOUNTED, layout, createdMillis, defaultPolicy, nowMillis,
                mountCount + 1, uncleanMounts + (state == State.MOUNTED ? 1 : 0), volumeId != null ? volumeId : UUID.randomUUID());
    }

    /** What a clean unmount writes after the last checkpoint. */
    public Superblock unmounted() {
        return new Superblock(version, sectorSize, State.CLEAN, layout, createdMillis, defaultPolicy, lastMountMillis,
                mountCount, uncleanMounts, volumeId);
    }

    /**
     * Reads and validates a superblock image against the device it came from.
     *
     * @throws MetadataCorruptException naming what was found instead of a valid dionode superblock
     */
    public static Superblock decode(byte[] image, long deviceBytes) throws MetadataCorruptException {
        for (int i = 0; i < 8; i++) {
            if (image[i] != MAGIC[i]) {
                throw new MetadataCorruptException("not a dionode device: block 0 starts with " + describe(image)
                        + " instead of the magic DIONODE1 (format it with `dionode mkfs`)");
            }
        }
        if (Bytes.i32(image, CRC_OFFSET) != Bytes.crc(0, image, 0, CRC_OFFSET)) {
            throw new MetadataCorruptException("dionode superblock checksum mismatch");
        }
        int version = Bytes.i32(image, 8);
        if (version < MIN_VERSION || version > VERSION) {
            throw new MetadataCorruptException("dionode superblock version " + version + " (this node reads versions "
                    + MIN_VERSION + " to " + VERSION + ")");
        }
        int policy = image[96];
        int stateCode = Bytes.i32(image, 20);
        State state = State.of(stateCode);
        Layout layout = new Layout(Bytes.i32(image, 12), Bytes.i64(image, 24), Bytes.i64(image, 32), Bytes.i64(image, 40),
                Bytes.i64(image, 48), Bytes.i64(image, 56), Bytes.i64(image, 64), Bytes.i64(image, 72), Bytes.i64(image, 80));
        String bad = checkLayout(layout, deviceBytes);
        if (bad != null || policy < 0 || policy >= LockPolicy.values().length) {
            throw new MetadataCorruptException("dionode superblock has an impossible layout: " + (bad != null ? bad : "policy " + policy));
        }
        if (state == null) {
            throw new MetadataCorruptException("dionode superblock has an impossible state " + stateCode
                    + " (1 = clean, 0 = mounted)");
        }
        UUID volume = version < 3 ? null : new UUID(Bytes.i64(image, 128), Bytes.i64(image, 136));
        return new Superblock(version, Bytes.i32(image, 16), state, layout, Bytes.i64(image, 88),
                LockPolicy.values()[policy], Bytes.i64(image, 104), Bytes.i64(image, 112), Bytes.i64(image, 120), volume);
    }

    private static String checkLayout(Layout layout, long deviceBytes) {
        if (layout.blockSize() != Layout.BLOCK_SIZE) {
            return "block size " + layout.blockSize();
        }
        // division, not multiplication: 2^52 blocks of 4096 bytes would overflow to a device of 0 bytes
        if (layout.totalBlocks() < Layout.MIN_BLOCKS || layout.totalBlocks() > deviceBytes / Layout.BLOCK_SIZE) {
            return layout.totalBlocks() + " blocks on a device of " + deviceBytes + " bytes";
        }
        // every region inside the device (so no sum below can wrap round) and in order
        long total = layout.totalBlocks();
        if (layout.journalStart() != 1 || layout.journalBlocks() < 8 || layout.journalBlocks() >= total
                || layout.inodeCount() <= 0 || layout.inodeCount() % Layout.INODES_PER_BLOCK != 0
                || layout.inodeTableBlocks() >= total || layout.bitmapBlocks() <= 0 || layout.bitmapBlocks() >= total
                || layout.inodeTableStart() != layout.journalStart() + layout.journalBlocks()
                || layout.bitmapStart() != layout.inodeTableStart() + layout.inodeTableBlocks()
                || layout.bitmapBlocks() != (total + Layout.BITS_PER_BITMAP_BLOCK - 1) / Layout.BITS_PER_BITMAP_BLOCK
                || layout.dataStart() != layout.bitmapStart() + layout.bitmapBlocks() || layout.dataStart() < 0
                || layout.dataStart() >= total) {
            return "regions out of order or sizes inconsistent: " + layout;
        }
        return null;
    }

    private static String describe(byte[] image) {
        boolean zeros = true;
        for (int i = 0; i < 512; i++) {
            zeros &= image[i] == 0;
        }
        if (zeros) {
            return "zeros (an unformatted device)";
        }
        StringBuilder hex = new StringBuilder("bytes ");
        for (int i = 0; i < 8; i++) {
            hex.append(String.format("%02x", image[i]));
        }
        return hex.toString();
    }
}
