package dionode.node.extent;

/**
 * What a full validation walk of one tree found: its size and shape. Immutable.
 *
 * @param extents stored extent records
 * @param writtenBlocks blocks in written extents
 * @param unwrittenBlocks blocks in unwritten extents
 * @param nodeBlocks blocks holding non-root nodes
 * @param endBlock one past the last mapped logical block (0 for an empty file)
 */
public record ExtentCheck(long extents, long writtenBlocks, long unwrittenBlocks, long nodeBlocks, long endBlock) {
}
