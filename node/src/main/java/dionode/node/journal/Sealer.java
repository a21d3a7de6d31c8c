package dionode.node.journal;

/**
 * Writes a metadata block's own checksum into its live image. Called by the journal on the
 * journal thread, under the metadata lock, just before the image is copied into a commit
 * snapshot; it must only touch {@code image} and must not block or take other locks.
 */
@FunctionalInterface
public interface Sealer {
    void seal(long homeBlock, byte[] image);
}
