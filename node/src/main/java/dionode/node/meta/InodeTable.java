package dionode.node.meta;

import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The inode table: live images of every table block (loaded at mount, journaled on change) and
 * the set of free inode numbers. Thread-safe: a record is read and written only by its inode's
 * owner, inside a journal handle; handles of two owners may write two slots of one block at once,
 * which is safe because each record is sealed over its own slot only and the journal copies the
 * block only when no handle is open. The free set is synchronized (in-memory, bounded); the
 * files' owners and modes are a concurrent map.
 */
public final class InodeTable {
    private final Layout layout;
    private final byte[][] blocks;
    private final BitSet used = new BitSet();
    private long nextFree = 1;

    public InodeTable(Layout layout, byte[][] blocks) {
        this.layout = layout;
        this.blocks = blocks;
    }

    /** The sealed image of a fresh table block: every slot free. */
    public static byte[] emptyBlock(Layout layout, long tableBlockIndex) {
        byte[] block = new byte[Layout.BLOCK_SIZE];
        long first = tableBlockIndex * Layout.INODES_PER_BLOCK + 1;
        for (int i = 0; i < Layout.INODES_PER_BLOCK; i++) {
            InodeRecord.encodeFree(block, i * Layout.INODE_BYTES, first + i, 0);
        }
        return block;
    }

    public Layout layout() {
        return layout;
    }

    public boolean validIno(long ino) {
        return ino >= 1 && ino <= layout.inodeCount();
    }

    /** The record of {@code ino}, or null when the slot is free. */
    public InodeRecord read(long ino) throws MetadataCorruptException {
        return InodeRecord.decode(image(ino), layout.inodeOffset(ino), ino);
    }

    /** The name of a slot whose record is corrupt, if it can still be read; see {@link InodeRecord#salvageName}. */
    public String salvageName(long ino) {
        return InodeRecord.salvageName(image(ino), layout.inodeOffset(ino));
    }

    /** Who owns a file and its mode: what a listing filters by, without asking the file's actor. */
    public record Access(int owner, int mode) {
    }

    /** Each file's {@link Access} as last written (or found at mount): read by the namespace's listing. */
    private final Map<Long, Access> access = new ConcurrentHashMap<>();

    /** A file's owner and mode as last written; null for a free slot, an identity or a bad record. */
    public Access access(long ino) {
        return access.get(ino);
    }

    /** At mount: a good file's owner and mode. */
    public void noteAccess(InodeRecord record) {
        if (record.identity() || record.unlinked()) {
            access.remove(record.ino());
        } else {
            access.put(record.ino(), new Access(record.owner(), record.mode()));
        }
    }

    /** Logs the record in the update (a journal handle's transaction). Costs one credit. */
    public void write(BlockWriteAccess update, InodeRecord record) {
        noteAccess(record);
        long home = layout.inodeBlock(record.ino());
        // no sealer: each record is sealed when encoded, and a slot that failed validation at mount
        // must reach the disk as it is, not re-sealed around its corrupt bytes
        byte[] image = update.getWriteAccess(home, image(record.ino()));
        record.encodeInto(image, layout.inodeOffset(record.ino()));
    }

    /**
     * Frees the slot in the update (a journal handle's transaction), keeping its generation for
     * the next file; the number is reusable after {@link #release}.
     */
    public void clear(BlockWriteAccess update, long ino) {
        access.remove(ino);
        long home = layout.inodeBlock(ino);
        byte[] image = update.getWriteAccess(home, image(ino));
        int off = layout.inodeOffset(ino);
        InodeRecord.encodeFree(image, off, ino, InodeRecord.generation(image, off));
    }

    /**
     * The generation in a slot: its file's, or for a free slot the last file's there (read even
     * when the rest of the record is corrupt).
     */
    public int generation(long ino) {
        return InodeRecord.generation(image(ino), layout.inodeOffset(ino));
    }

    /** The name bytes stored in a slot, exactly (a decoded record's name replaces invalid UTF-8). */
    public byte[] nameBytes(long ino) {
        return InodeRecord.nameBytes(image(ino), layout.inodeOffset(ino));
    }

    private byte[] image(long ino) {
        return blocks[(int) ((ino - 1) / Layout.INODES_PER_BLOCK)];
    }

    /** Marks a number taken (at mount, for every slot that is in use or unreadable). */
    public synchronized void markUsed(long ino) {
        used.set((int) ino);
    }

    /** A free inode number, taken; 0 when the table is full. */
    public synchronized long allocate() {
        long count = layout.inodeCount();
        for (long i = 0; i < count; i++) {
            long ino = (nextFree - 1 + i) % count + 1;
            if (!used.get((int) ino)) {
                used.set((int) ino);
                nextFree = ino % count + 1;
                return ino;
            }
        }
        return 0;
    }

    /** The lowest free inode number up to {@code max}, taken; 0 when there is none. */
    public synchronized long allocateLowest(long max) {
        long ino = used.nextClearBit(1);
        if (ino > Math.min(max, layout.inodeCount())) {
            return 0;
        }
        used.set((int) ino);
        return ino;
    }

    public synchronized void release(long ino) {
        used.clear((int) ino);
    }

    public synchronized long inUseCount() {
        return used.cardinality();
    }
}
