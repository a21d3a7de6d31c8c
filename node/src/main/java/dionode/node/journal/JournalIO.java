package dionode.node.journal;

import static dionode.node.journal.JournalFormat.BLOCK_SIZE;

import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.SortedMap;

/**
 * The journal's few device operations: whole 4096-byte blocks of the journal area and of
 * home blocks, through {@link BlockDevice} (O_DIRECT) with 4096-aligned direct buffers.
 *
 * <p>Not thread-safe: used by one thread at a time (the journal thread, or the caller of
 * format/recover/open).
 */
final class JournalIO {

    /** Most blocks moved by one pwrite/pread when writing home or reading the log. */
    static final int CHUNK_BLOCKS = 256;

    final BlockDevice dev;
    final long start;
    final long length;
    final long deviceBlocks;

    JournalIO(BlockDevice dev, long start, long length) throws IOException {
        this.dev = dev;
        this.start = start;
        this.length = length;
        this.deviceBlocks = dev.size() / BLOCK_SIZE;
        if (length < Journal.MIN_BLOCKS) {
            throw new IllegalArgumentException("journal of " + length + " blocks; at least " + Journal.MIN_BLOCKS);
        }
        if (start < 0 || start + length > deviceBlocks || start + length < start) {
            throw new IllegalArgumentException("journal blocks [" + start + ", " + (start + length)
                    + ") do not fit a device of " + deviceBlocks + " blocks");
        }
        int sector = dev.sectorSize();
        if (sector <= 0 || sector > BLOCK_SIZE || BLOCK_SIZE % sector != 0) {
            throw new IllegalArgumentException("device sector size " + sector + " does not divide " + BLOCK_SIZE);
        }
    }

    /**
     * A 4096-aligned direct buffer of {@code blocks} blocks, little-endian, position 0. Unpooled:
     * the journal thread keeps its write buffer for its whole life; recovery and checkpoint
     * buffers are short-lived and rare.
     */
    static ByteBuffer allocate(int blocks) {
        return AlignedBuffers.allocateAligned(Math.multiplyExact(blocks, BLOCK_SIZE), BLOCK_SIZE)
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    boolean inJournal(long block) {
        return block >= start && block < start + length;
    }

    /**
     * Refuses a home block a handle may never log: off the device or inside the journal area.
     *
     * @throws IllegalArgumentException naming the block and why
     */
    void checkHome(long home) {
        if (home < 0 || home >= deviceBlocks) {
            throw new IllegalArgumentException("home block " + home + " outside the device of " + deviceBlocks
                    + " blocks");
        }
        if (inJournal(home)) {
            throw new IllegalArgumentException("home block " + home + " is inside the journal area ["
                    + start + ", " + (start + length) + ")");
        }
    }

    /** Reads {@code buf.remaining()} bytes from journal block {@code index}. */
    void readJournal(long index, ByteBuffer buf) throws IOException {
        dev.read((start + index) * BLOCK_SIZE, buf);
    }

    /** Writes {@code buf.remaining()} bytes at journal block {@code index}. */
    void writeJournal(long index, ByteBuffer buf) throws IOException {
        dev.write((start + index) * BLOCK_SIZE, buf);
    }

    void flush() throws IOException {
        dev.flush();
    }

    /** Reads and validates the journal superblock. */
    JournalFormat.Super readSuper() throws IOException {
        ByteBuffer block = allocate(1);
        readJournal(0, block);
        return JournalFormat.decodeSuper(block, length, start);
    }

    /** Writes the journal superblock (no flush). */
    void writeSuper(long sequence) throws IOException {
        ByteBuffer block = allocate(1);
        JournalFormat.encodeSuper(block, length, start, sequence);
        writeJournal(0, block);
    }

    /**
     * Writes images to their home blocks, in block order, runs of consecutive blocks in one
     * pwrite (no flush).
     *
     * @return blocks written
     */
    int writeHome(SortedMap<Long, byte[]> images) throws IOException {
        if (images.isEmpty()) {
            return 0;
        }
        ByteBuffer buf = allocate(Math.min(CHUNK_BLOCKS, images.size()));
        long runStart = -1;
        int runLen = 0;
        for (Map.Entry<Long, byte[]> e : images.entrySet()) {
            long home = e.getKey();
            if (runLen > 0 && (home != runStart + runLen || runLen == buf.capacity() / BLOCK_SIZE)) {
                writeRun(buf, runStart, runLen);
                runLen = 0;
            }
            if (runLen == 0) {
                runStart = home;
            }
            buf.put(runLen * BLOCK_SIZE, e.getValue(), 0, BLOCK_SIZE);
            runLen++;
        }
        writeRun(buf, runStart, runLen);
        return images.size();
    }

    private void writeRun(ByteBuffer buf, long home, int blocks) throws IOException {
        dev.write(home * BLOCK_SIZE, buf.duplicate().position(0).limit(blocks * BLOCK_SIZE));
    }

    /** Zeroes the log (journal blocks 1 .. length-1), so that no earlier journal's blocks survive a format. */
    void zeroLog() throws IOException {
        ByteBuffer zeros = allocate((int) Math.min(CHUNK_BLOCKS, length - 1));
        int chunk = zeros.capacity() / BLOCK_SIZE;
        for (long i = 1; i < length; i += chunk) {
            int count = (int) Math.min(chunk, length - i);
            writeJournal(i, zeros.duplicate().position(0).limit(count * BLOCK_SIZE));
        }
    }

    /** Sequential reader of log blocks with read-ahead, for recovery. */
    final class LogReader {
        private final ByteBuffer buf = allocate((int) Math.min(CHUNK_BLOCKS, length));
        private long first = -1;
        private int count;

        /** Journal block {@code index} as a little-endian heap copy of 4096 bytes. */
        ByteBuffer block(long index) throws IOException {
            if (first < 0 || index < first || index >= first + count) {
                count = (int) Math.min(buf.capacity() / BLOCK_SIZE, length - index);
                first = index;
                readJournal(index, buf.duplicate().position(0).limit(count * BLOCK_SIZE));
            }
            byte[] copy = new byte[BLOCK_SIZE];
            buf.get((int) (index - first) * BLOCK_SIZE, copy);
            return ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN);
        }
    }
}
