package dionode.node.extent;

/**
 * Where an {@link ExtentTree} keeps its non-root nodes: 4096-byte blocks. In the node this is the
 * bounded extent cache, which may not hold every node; in tests a map. Implementations are confined to the tree's owner.
 */
public interface ExtentNodeStore {

    /**
     * The current image of an extent block, for reading.
     *
     * @throws ExtentMissException when the block is not in memory
     */
    byte[] node(long blk);

    /** Whether {@link #node} has the block without reading the device; a store holding every node always has. */
    default boolean resident(long blk) {
        return true;
    }

    /** The image of an extent block for modification (joins the running transaction). */
    byte[] modify(long blk);

    /** A new zeroed extent block near {@code goal}; then {@link #modify} it. */
    long allocateNode(long goal);

    /** Gives an extent block back once the tree no longer points to it. */
    void freeNode(long blk);
}
