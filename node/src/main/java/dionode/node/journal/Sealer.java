package dionode.node.journal;

/**
 * Writes a metadata block's own checksum into its live image. Called by the journal on the
 * journal thread, while no handle is open (the transaction is locked and its handles closed),
 * just before the image is copied into a commit snapshot; it must only touch {@code image} and
 * must not block or take locks.
 */
@FunctionalInterface
public interface Sealer {
    void seal(long homeBlock, byte[] image);
}
