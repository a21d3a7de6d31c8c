package dionode.node.extent;

import java.util.List;

/**
 * A lookup needed extent blocks that are not in memory (ext4_map_blocks finding no extent-status
 * entry and having to read the tree under {@code i_data_sem}). Nothing was changed before it was
 * thrown: the caller either answers EAGAIN (a cache-only NOWAIT lookup, EXT4_GET_BLOCKS_CACHED_NOWAIT)
 * or reads the blocks and runs the lookup again. Immutable.
 */
public final class ExtentMissException extends RuntimeException {
    /**
     * One block to read and what its parent says it must be.
     *
     * @param blk the block
     * @param depth the depth its parent index expects, or -1 when not known
     * @param key the first logical block its parent index names, or -1 when not known
     */
    public record Want(long blk, int depth, long key) {
    }

    private final transient List<Want> wants;

    public ExtentMissException(long ino, List<Want> wants) {
        super("inode " + ino + ": " + wants.size() + " extent blocks are not in memory", null, false, false);
        this.wants = List.copyOf(wants);
    }

    public List<Want> wants() {
        return wants;
    }
}
