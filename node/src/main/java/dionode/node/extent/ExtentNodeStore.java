package dionode.node.extent;

/**
 * Where an {@link ExtentTree} keeps its non-root nodes: 4096-byte blocks. In the node this is the
 * journaled metadata cache; in tests a map. Implementations are confined to the tree's owner.
 */
public interface ExtentNodeStore {

    /** The current image of an extent block, for reading. */
    byte[] node(long blk);

    /** The image of an extent block for modification (joins the running transaction). */
    byte[] modify(long blk);

    /** A new zeroed extent block near {@code goal}; then {@link #modify} it. */
    long allocateNode(long goal);

    /** Gives an extent block back once the tree no longer points to it. */
    void freeNode(long blk);
}
