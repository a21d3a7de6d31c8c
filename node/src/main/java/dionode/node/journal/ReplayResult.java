package dionode.node.journal;

/**
 * What {@link Journal#recover} found and did. Immutable.
 *
 * @param transactions   fully committed transactions replayed
 * @param imagesReplayed images read from the log (counting every occurrence)
 * @param blocksWritten  distinct home blocks written (the latest image of each)
 * @param firstTid       tid of the first replayed transaction, or -1 if none
 * @param lastTid        tid of the last replayed transaction, or -1 if none
 * @param nextSequence   the sequence written into the reset journal superblock
 * @param endBlock       log block where the scan stopped: the start of the first transaction not replayed
 * @param endReason      why the scan stopped there (a clean end or the torn/corrupt tail)
 */
public record ReplayResult(int transactions, long imagesReplayed, int blocksWritten, long firstTid, long lastTid,
                           long nextSequence, long endBlock, String endReason) {
}
