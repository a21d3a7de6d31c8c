package dionode.node.meta;

/**
 * What node.meta's structures need from the atomic update that changes them: write access to a
 * metadata block's live image ({@code jbd2_journal_get_write_access}). node.journal's
 * {@code Handle} implements it; it is defined here so that node.meta knows nothing of the journal
 * above it (DESIGN §9). Implementations are confined to the thread running the update.
 */
@FunctionalInterface
public interface BlockWriteAccess {

    /**
     * Adds {@code homeBlock} to the update and returns {@code liveImage}, which the caller may now
     * modify. The image is logged as the caller leaves it, without a sealer: node.meta's records
     * write their own checksums when they are encoded.
     */
    byte[] getWriteAccess(long homeBlock, byte[] liveImage);
}
