package dionode.node.extent;

import java.util.List;
import java.util.function.BiPredicate;
import java.util.function.Consumer;

/**
 * One file's map from logical to device blocks, as the inode's steps use it: ext4's extent tree
 * ({@link ExtentTree}, EXT4_EXTENTS_FL) or the ext3-style block map of a no-extent file
 * ({@link IndirectMap}). The inline part lives in the inode's 60-byte {@code i_block}; other
 * blocks in an {@link ExtentNodeStore}. Implementations are confined to the inode's owner.
 */
public interface BlockMap {

    /** Receives every physical range the map references, for cross-checks (bitmaps, overlaps). */
    interface PhysicalVisitor {
        /** @param node true for a block of the map itself, false for data blocks */
        void visit(long pblk, long len, boolean node);
    }

    /** The inode's 60-byte inline part; the map keeps and edits this very array. */
    byte[] root();

    /** Levels of map blocks a lookup may cross below the root (for journal credits). */
    int depth();

    /** One past the last logical block this kind of map can address. */
    long maxBlocks();

    /** Whether this map can record unwritten blocks (only extents can: ext4_can_extents_be_merged's world). */
    boolean hasUnwritten();

    /**
     * ext4_map_blocks() without allocation: the run starting at {@code lblk}, at most
     * {@code maxLen} blocks, of one state and physically contiguous.
     *
     * @throws ExtentMissException when a map block the first block's answer needs is not in memory
     */
    Mapping map(long lblk, long maxLen);

    /** Every stored run overlapping {@code [from, to)}, in order, unclipped. */
    void forEach(long from, long to, Consumer<Extent> action);

    default List<Extent> extents(long from, long to) {
        return extents(from, to, Integer.MAX_VALUE);
    }

    /**
     * The first {@code limit} stored runs overlapping {@code [from, to)}, unclipped; each run is
     * what one step may touch as one extent (one extent record, or one pointer block's entries).
     */
    List<Extent> extents(long from, long to, int limit);

    /** A run ending at or before {@code lblk}, for the allocation goal; null if none is known. */
    Extent lastBefore(long lblk);

    /** The longest run a new allocation at {@code lblk} may be given in one piece. */
    int maxRun(long lblk, boolean unwritten);

    /**
     * Walks the whole map, checking every block and pointer; {@code validRange} says whether a
     * physical range lies inside the data area.
     *
     * @throws ExtentCorruptionException naming the first problem
     */
    ExtentCheck validate(BiPredicate<Long, Long> validRange, PhysicalVisitor visitor);

    /** The blocks a whole-map walk would still have to read; empty when it is all in memory. */
    List<ExtentMissException.Want> missing();

    /**
     * The check of a map block just read from the device, before it joins the cache.
     *
     * @throws ExtentCorruptionException naming the problem
     */
    void checkBlock(ExtentMissException.Want want, byte[] image, BiPredicate<Long, Long> validRange);

    /** Writes a map block's checksum (if its format has one) before the journal logs it. */
    void seal(long blk, byte[] image);

    /**
     * Makes {@code [from, to)} hold exactly {@code with} (sorted, non-overlapping, inside the
     * range); returns the pieces of old runs that were inside the range.
     */
    List<Extent> replace(long from, long to, List<Extent> with);

    /** Sets the state of every allocated block in {@code [from, to)}; returns how many changed. */
    long convertState(long from, long to, boolean unwritten);

    /** Forgets counted shape, after the caller put block images back as they were. */
    void forgetShape();

    /** The most map blocks converting {@code unwrittenBlocks} unwritten blocks to written can still allocate. */
    long conversionReserve(long unwrittenBlocks);
}
