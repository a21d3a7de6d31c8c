package dionode.node.journal;

import dionode.node.meta.Layout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The journal's on-disk format: offsets, encoders and validating decoders of its three
 * block kinds. Every block is {@link #BLOCK_SIZE} bytes, little-endian, and ends with a
 * CRC32C of its first 4092 bytes in its last 4 bytes.
 *
 * <pre>
 * journal area (blocks startBlock .. startBlock+length-1 of the device)
 *
 *   block 0        1 .. N-1 : the log, written linearly from block 1 after every checkpoint
 *  +-----------+-----------+-----+-----+---------+-----------+-----+---------+-------
 *  | journal   | desc(T)   | img | img | commit  | desc(T+1) | img | commit  | stale
 *  | superblock| last=1    |     |     | (T)     | last=1    |     | (T+1)   | older tids
 *  +-----------+-----------+-----+-----+---------+-----------+-----+---------+-------
 *              ^ sequence = T (tid expected at block 1)
 *
 * A transaction is: descriptor blocks (the last one flagged LAST), then its images in tag
 * order, then one commit block. Tids are consecutive from the superblock's sequence.
 * </pre>
 *
 * <p>Stateless (thread-safe). The log's decoders never throw on bad input: they return a
 * {@link Rejected} with the reason, so that recovery can end the log at the first bad block.
 */
final class JournalFormat {

    private JournalFormat() {
    }

    /**
     * Size of every journal block and of every journaled metadata block: node.journal's one
     * definition of it (every class of the package reads it from here).
     */
    static final int BLOCK_SIZE = Layout.BLOCK_SIZE;
    /** Offset of the CRC32C (over bytes 0 .. 4091) in every block. */
    static final int CRC_OFFSET = BLOCK_SIZE - 4;

    static final int VERSION = 1;

    /** "DJSB", "DJDS", "DJCM" as little-endian ints (so the bytes read D J S B on disk). */
    static final int SUPER_MAGIC = magic("DJSB");
    static final int DESC_MAGIC = magic("DJDS");
    static final int COMMIT_MAGIC = magic("DJCM");

    // ---------------------------------------------------------------------------------
    // Journal superblock (journal block 0)
    //
    //  0               4               8               12              16
    //  +---------------+---------------+---------------+---------------+
    //  | magic "DJSB"  | version = 1   | block size    | flags (= 0)   |   0
    //  +---------------+---------------+---------------+---------------+
    //  | journal length in blocks, u64 | start block on the device, u64|  16
    //  |  (superblock + log)           |  (self check)                 |
    //  +-------------------------------+-------------------------------+
    //  | sequence, u64: tid expected   | zero ...                      |  32
    //  |  at log block 1               |                               |
    //  +-------------------------------+-------------------------------+
    //  | ... zero                                      | CRC32C 0..4091|  4092
    //  +-----------------------------------------------+---------------+
    static final int SB_MAGIC = 0;
    static final int SB_VERSION = 4;
    static final int SB_BLOCK_SIZE = 8;
    static final int SB_FLAGS = 12;
    static final int SB_LENGTH = 16;
    static final int SB_START = 24;
    static final int SB_SEQUENCE = 32;

    // ---------------------------------------------------------------------------------
    // Descriptor block
    //
    //  0               4               8               12              16
    //  +---------------+---------------+---------------+---------------+
    //  | magic "DJDS"  | flags         | tid, u64                      |   0
    //  |               | bit0 = LAST   |                               |
    //  +---------------+---------------+---------------+---------------+
    //  | tag count     | index of this | tag 0: home block, u64        |  16
    //  | 1 .. 339      | descriptor    |                               |
    //  +---------------+---------------+---------------+---------------+
    //  | tag 0: CRC32C | tag 1: home block, u64        | tag 1: CRC32C |  32
    //  |  of the image |                               |               |
    //  +---------------+-------------------------------+---------------+
    //  | ... tags, 12 bytes each, packed ...           | CRC32C 0..4091|  4092
    //  +-----------------------------------------------+---------------+
    static final int D_MAGIC = 0;
    static final int D_FLAGS = 4;
    static final int D_TID = 8;
    static final int D_TAG_COUNT = 16;
    static final int D_INDEX = 20;
    static final int D_TAGS = 24;
    static final int TAG_SIZE = 12;
    static final int TAG_HOME = 0;
    static final int TAG_CRC = 8;
    static final int TAGS_PER_DESCRIPTOR = (CRC_OFFSET - D_TAGS) / TAG_SIZE; // 339
    static final int D_FLAG_LAST = 1;

    // ---------------------------------------------------------------------------------
    // Commit block
    //
    //  0               4               8               12              16
    //  +---------------+---------------+---------------+---------------+
    //  | magic "DJCM"  | flags (= 0)   | tid, u64                      |   0
    //  +---------------+---------------+---------------+---------------+
    //  | image count   | descriptor    | commit time, u64              |  16
    //  |               | count         | (ms since epoch, from clock)  |
    //  +---------------+---------------+-------------------------------+
    //  | data CRC32C:  | zero ...                                      |  32
    //  | over all tag  |                                               |
    //  | CRCs in order |                                               |
    //  +---------------+-------------------------------+---------------+
    //  | ... zero                                      | CRC32C 0..4091|  4092
    //  +-----------------------------------------------+---------------+
    static final int C_MAGIC = 0;
    static final int C_FLAGS = 4;
    static final int C_TID = 8;
    static final int C_BLOCK_COUNT = 16;
    static final int C_DESC_COUNT = 20;
    static final int C_TIME = 24;
    static final int C_DATA_CRC = 32;

    static int magic(String four) {
        return (four.charAt(0) & 0xff) | (four.charAt(1) & 0xff) << 8 | (four.charAt(2) & 0xff) << 16
                | (four.charAt(3) & 0xff) << 24;
    }

    /** Number of descriptor blocks for {@code images} images (at least one). */
    static int descriptorsFor(int images) {
        return Math.max(1, (images + TAGS_PER_DESCRIPTOR - 1) / TAGS_PER_DESCRIPTOR);
    }

    /** Log blocks taken by a transaction of {@code images} images: descriptors + images + commit. */
    static int logBlocksFor(int images) {
        return descriptorsFor(images) + images + 1;
    }

    static int crc32c(byte[] bytes, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, off, len);
        return (int) crc.getValue();
    }

    static int crc32c(ByteBuffer bytes, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate().limit(off + len).position(off));
        return (int) crc.getValue();
    }

    /** CRC32C of a whole image (all 4096 bytes). */
    static int imageCrc(byte[] image) {
        return crc32c(image, 0, BLOCK_SIZE);
    }

    static int imageCrc(ByteBuffer block, int off) {
        return crc32c(block, off, BLOCK_SIZE);
    }

    /** A little-endian view of one block inside {@code buf} starting at absolute {@code off}. */
    static ByteBuffer blockAt(ByteBuffer buf, int off) {
        return buf.duplicate().position(off).limit(off + BLOCK_SIZE).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Writes the block's trailing CRC32C over its first 4092 bytes. */
    static void sealBlock(ByteBuffer block) {
        block.putInt(CRC_OFFSET, crc32c(block, 0, CRC_OFFSET));
    }

    static boolean blockCrcOk(ByteBuffer block) {
        return block.getInt(CRC_OFFSET) == crc32c(block, 0, CRC_OFFSET);
    }

    static void zero(ByteBuffer block) {
        for (int i = 0; i < BLOCK_SIZE; i += 8) {
            block.putLong(i, 0L);
        }
    }

    // ---------------------------------------------------------------------------------
    // Superblock

    /** Decoded journal superblock. Immutable. */
    record Super(long length, long startBlock, long sequence, int flags) {
    }

    static void encodeSuper(ByteBuffer block, long length, long startBlock, long sequence) {
        zero(block);
        block.putInt(SB_MAGIC, SUPER_MAGIC);
        block.putInt(SB_VERSION, VERSION);
        block.putInt(SB_BLOCK_SIZE, BLOCK_SIZE);
        block.putInt(SB_FLAGS, 0);
        block.putLong(SB_LENGTH, length);
        block.putLong(SB_START, startBlock);
        block.putLong(SB_SEQUENCE, sequence);
        sealBlock(block);
    }

    /**
     * Validates a journal superblock against the area it was read from.
     *
     * @throws JournalCorruptException naming what is wrong
     */
    static Super decodeSuper(ByteBuffer block, long expectLength, long expectStart) throws JournalCorruptException {
        String where = "journal superblock at device block " + expectStart;
        int magic = block.getInt(SB_MAGIC);
        if (magic != SUPER_MAGIC) {
            throw new JournalCorruptException(where + ": bad magic 0x" + Integer.toHexString(magic)
                    + " (expected 0x" + Integer.toHexString(SUPER_MAGIC) + "): not a dionode journal or not formatted");
        }
        if (!blockCrcOk(block)) {
            throw new JournalCorruptException(where + ": CRC32C mismatch (stored 0x"
                    + Integer.toHexString(block.getInt(CRC_OFFSET)) + ", computed 0x"
                    + Integer.toHexString(crc32c(block, 0, CRC_OFFSET)) + ")");
        }
        int version = block.getInt(SB_VERSION);
        if (version != VERSION) {
            throw new JournalCorruptException(where + ": unsupported version " + version + " (expected " + VERSION + ")");
        }
        int blockSize = block.getInt(SB_BLOCK_SIZE);
        if (blockSize != BLOCK_SIZE) {
            throw new JournalCorruptException(where + ": block size " + blockSize + " (expected " + BLOCK_SIZE + ")");
        }
        int flags = block.getInt(SB_FLAGS);
        if (flags != 0) {
            throw new JournalCorruptException(where + ": unknown flags 0x" + Integer.toHexString(flags));
        }
        long length = block.getLong(SB_LENGTH);
        if (length != expectLength) {
            throw new JournalCorruptException(where + ": length " + length + " blocks, but the journal area has "
                    + expectLength);
        }
        long start = block.getLong(SB_START);
        if (start != expectStart) {
            throw new JournalCorruptException(where + ": records start block " + start + " (superblock moved?)");
        }
        long sequence = block.getLong(SB_SEQUENCE);
        if (sequence <= 0) {
            throw new JournalCorruptException(where + ": invalid sequence " + sequence);
        }
        return new Super(length, start, sequence, flags);
    }

    // ---------------------------------------------------------------------------------
    // Descriptor

    static void encodeDescriptor(ByteBuffer block, long tid, int index, boolean last, long[] homes, int[] crcs,
                                 int from, int count) {
        zero(block);
        block.putInt(D_MAGIC, DESC_MAGIC);
        block.putInt(D_FLAGS, last ? D_FLAG_LAST : 0);
        block.putLong(D_TID, tid);
        block.putInt(D_TAG_COUNT, count);
        block.putInt(D_INDEX, index);
        for (int i = 0; i < count; i++) {
            int tag = D_TAGS + i * TAG_SIZE;
            block.putLong(tag + TAG_HOME, homes[from + i]);
            block.putInt(tag + TAG_CRC, crcs[from + i]);
        }
        sealBlock(block);
    }

    /** What {@link #decodeDescriptor} found. */
    sealed interface DescriptorCheck permits Descriptor, Rejected {
    }

    /** What {@link #checkCommit} found. */
    sealed interface CommitCheck permits Commit, Rejected {
    }

    /** Not the block the log should hold here, and why: recovery ends the log at it. Immutable. */
    record Rejected(String reason) implements DescriptorCheck, CommitCheck {
    }

    /** Decoded descriptor. Immutable after decode. */
    record Descriptor(long tid, int index, boolean last, long[] homes, int[] crcs) implements DescriptorCheck {
    }

    /**
     * Decodes a descriptor; a {@link Rejected} if the block is not a valid descriptor of
     * {@code expectTid} with index {@code expectIndex}.
     */
    static DescriptorCheck decodeDescriptor(ByteBuffer block, long expectTid, int expectIndex) {
        if (block.getInt(D_MAGIC) != DESC_MAGIC) {
            return new Rejected("no descriptor magic");
        }
        if (!blockCrcOk(block)) {
            return new Rejected("descriptor CRC mismatch");
        }
        long tid = block.getLong(D_TID);
        if (tid != expectTid) {
            return new Rejected("descriptor tid " + tid + ", expected " + expectTid);
        }
        int flags = block.getInt(D_FLAGS);
        if ((flags & ~D_FLAG_LAST) != 0) {
            return new Rejected("descriptor has unknown flags 0x" + Integer.toHexString(flags));
        }
        int index = block.getInt(D_INDEX);
        if (index != expectIndex) {
            return new Rejected("descriptor index " + index + ", expected " + expectIndex);
        }
        int tagCount = block.getInt(D_TAG_COUNT);
        if (tagCount < 1 || tagCount > TAGS_PER_DESCRIPTOR) {
            return new Rejected("descriptor tag count " + tagCount + " out of range 1.." + TAGS_PER_DESCRIPTOR);
        }
        long[] homes = new long[tagCount];
        int[] crcs = new int[tagCount];
        for (int i = 0; i < tagCount; i++) {
            int tag = D_TAGS + i * TAG_SIZE;
            homes[i] = block.getLong(tag + TAG_HOME);
            crcs[i] = block.getInt(tag + TAG_CRC);
        }
        return new Descriptor(tid, index, (flags & D_FLAG_LAST) != 0, homes, crcs);
    }

    // ---------------------------------------------------------------------------------
    // Commit

    /** CRC32C over the tag CRCs, each as 4 little-endian bytes, in log order. */
    static int dataCrc(int[] crcs, int count) {
        CRC32C crc = new CRC32C();
        byte[] four = new byte[4];
        for (int i = 0; i < count; i++) {
            int tagCrc = crcs[i];
            four[0] = (byte) tagCrc;
            four[1] = (byte) (tagCrc >>> 8);
            four[2] = (byte) (tagCrc >>> 16);
            four[3] = (byte) (tagCrc >>> 24);
            crc.update(four, 0, 4);
        }
        return (int) crc.getValue();
    }

    static void encodeCommit(ByteBuffer block, long tid, int images, int descriptors, long timeMillis, int dataCrc) {
        zero(block);
        block.putInt(C_MAGIC, COMMIT_MAGIC);
        block.putInt(C_FLAGS, 0);
        block.putLong(C_TID, tid);
        block.putInt(C_BLOCK_COUNT, images);
        block.putInt(C_DESC_COUNT, descriptors);
        block.putLong(C_TIME, timeMillis);
        block.putInt(C_DATA_CRC, dataCrc);
        sealBlock(block);
    }

    /** A commit block that matches what its descriptors promised. Immutable. */
    record Commit(long timeMillis) implements CommitCheck {
    }

    /**
     * Checks a commit block against what the descriptors promised; a {@link Rejected} if it
     * does not match.
     */
    static CommitCheck checkCommit(ByteBuffer block, long tid, int images, int descriptors, int dataCrc) {
        if (block.getInt(C_MAGIC) != COMMIT_MAGIC) {
            return new Rejected("no commit block");
        }
        if (!blockCrcOk(block)) {
            return new Rejected("commit block CRC mismatch");
        }
        if (block.getLong(C_TID) != tid) {
            return new Rejected("commit tid " + block.getLong(C_TID) + ", expected " + tid);
        }
        if (block.getInt(C_FLAGS) != 0) {
            return new Rejected("commit block has unknown flags");
        }
        if (block.getInt(C_BLOCK_COUNT) != images || block.getInt(C_DESC_COUNT) != descriptors) {
            return new Rejected("commit counts " + block.getInt(C_BLOCK_COUNT) + "/" + block.getInt(C_DESC_COUNT)
                    + " do not match descriptors " + images + "/" + descriptors);
        }
        if (block.getInt(C_DATA_CRC) != dataCrc) {
            return new Rejected("commit data CRC mismatch");
        }
        return new Commit(block.getLong(C_TIME));
    }
}
