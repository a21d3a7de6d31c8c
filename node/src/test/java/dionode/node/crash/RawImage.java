package dionode.node.crash;

import dionode.node.meta.Layout;
import dionode.node.meta.Superblock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Byte-level access to a device image that no node has open, for crafting corrupt and torn
 * images: whole blocks in and out, little-endian fields, and a reader of the journal's log that
 * finds each transaction's descriptor, image and commit blocks. Not thread-safe.
 */
public final class RawImage implements AutoCloseable {
    public static final int B = Layout.BLOCK_SIZE;
    /** Tags in one journal descriptor block: (4092 - 24) / 12. */
    private static final int TAGS_PER_DESCRIPTOR = 339;
    private final FileChannel ch;
    private final Layout layout;

    public RawImage(Path device) throws IOException {
        this.ch = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.layout = Superblock.decode(read(0), ch.size()).layout();
    }

    /** An edit of an image, for {@link #editedCopy}. */
    @FunctionalInterface
    public interface Edit {
        void apply(RawImage r) throws IOException;
    }

    /** A copy of {@code image} beside it, named with {@code suffix}, changed by {@code edit}. */
    public static Path editedCopy(Path image, String suffix, Edit edit) throws IOException {
        Path copy = image.resolveSibling(image.getFileName() + "-" + suffix);
        java.nio.file.Files.copy(image, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (RawImage r = new RawImage(copy)) {
            edit.apply(r);
        }
        return copy;
    }

    public Layout layout() {
        return layout;
    }

    public byte[] read(long blk) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(B);
        while (b.hasRemaining()) {
            if (ch.read(b, blk * B + b.position()) < 0) {
                throw new IOException("past the end at block " + blk);
            }
        }
        return b.array();
    }

    public void write(long blk, byte[] image) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(image);
        while (b.hasRemaining()) {
            ch.write(b, blk * B + b.position());
        }
        ch.force(true);
    }

    /** Flips every bit of the byte at {@code off} of block {@code blk}. */
    public void flip(long blk, int off) throws IOException {
        byte[] b = read(blk);
        b[off] ^= (byte) 0xFF;
        write(blk, b);
    }

    public static int u16(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getShort(off) & 0xFFFF;
    }

    public static void u16(byte[] b, int off, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putShort(off, (short) v);
    }

    public static long u32(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(off) & 0xFFFF_FFFFL;
    }

    public static void u32(byte[] b, int off, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(off, (int) v);
    }

    public static long i64(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(off);
    }

    // ------------------------------------------------------------------ journal

    /** One transaction found in the log: journal-relative block indexes. */
    public record LogTxn(long tid, List<Long> descriptors, List<Long> images, long commit, List<Long> homes) {
    }

    private static boolean magic(byte[] b, String m) {
        return Arrays.equals(Arrays.copyOf(b, 4), m.getBytes(StandardCharsets.US_ASCII));
    }

    /** Device block of journal block {@code index}. */
    public long journalBlock(long index) {
        return layout.journalStart() + index;
    }

    /** The journal superblock's sequence: the tid expected at log block 1. */
    public long journalSequence() throws IOException {
        return i64(read(journalBlock(0)), 32);
    }

    /** The transactions in the log from block 1 with consecutive tids from the journal superblock's sequence. */
    public List<LogTxn> transactions() throws IOException {
        List<LogTxn> out = new ArrayList<>();
        long expect = journalSequence();
        long pos = 1;
        while (pos < layout.journalBlocks()) {
            List<Long> descs = new ArrayList<>();
            List<Long> homes = new ArrayList<>();
            boolean last = false;
            while (!last && pos < layout.journalBlocks()) {
                byte[] d = read(journalBlock(pos));
                if (!magic(d, "DJDS") || i64(d, 8) != expect) {
                    return out;
                }
                descs.add(pos);
                int n = (int) u32(d, 16);
                for (int i = 0; i < n; i++) {
                    homes.add(i64(d, 24 + i * 12));
                }
                last = (u32(d, 4) & 1) != 0;
                pos++;
            }
            List<Long> images = new ArrayList<>();
            for (int i = 0; i < homes.size(); i++) {
                images.add(pos++);
            }
            byte[] c = read(journalBlock(pos));
            if (!magic(c, "DJCM") || i64(c, 8) != expect) {
                return out;
            }
            out.add(new LogTxn(expect, descs, images, pos, homes));
            pos++;
            expect++;
        }
        return out;
    }

    /**
     * Points tag {@code tag} of transaction {@code t} at {@code home} and reseals the descriptor:
     * a checksummed transaction that lies about where its image belongs (the commit's CRC covers
     * the images, not the homes).
     */
    public void setHome(LogTxn t, int tag, long home) throws IOException {
        long desc = journalBlock(t.descriptors().get(tag / TAGS_PER_DESCRIPTOR));
        byte[] d = read(desc);
        ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putLong(24 + (tag % TAGS_PER_DESCRIPTOR) * 12, home);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(d, 0, B - 4);
        u32(d, B - 4, crc.getValue());
        write(desc, d);
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
