package dionode.node.journal;

/**
 * How large a transaction may grow and when it commits unasked, fixed when the journal opens
 * from its options and the size of its log. Immutable.
 *
 * @param maxTxnBlocks         most distinct blocks in one transaction: always fits the log
 * @param commitThreshold      block count at which the running transaction commits unasked
 * @param commitIntervalMillis the running transaction commits at the latest this long after its first change
 */
record TxnLimits(int maxTxnBlocks, int commitThreshold, long commitIntervalMillis) {

    /** Largest automatic transaction size, in blocks. */
    static final int AUTO_MAX_TXN_CAP = 1024;

    /** The limits of a journal area of {@code journalBlocks} blocks (superblock + log). */
    static TxnLimits of(JournalOptions options, long journalBlocks) {
        int logBlocks = (int) Math.min(Integer.MAX_VALUE, journalBlocks - 1);
        int fit = largestFitting(logBlocks);
        int auto = Math.max(1, Math.min(AUTO_MAX_TXN_CAP, largestFitting(logBlocks / 4)));
        int maxTxn = Math.min(fit, options.maxTxnBlocks() == 0 ? auto : options.maxTxnBlocks());
        int threshold = options.commitThreshold() == 0 ? Math.max(1, maxTxn * 3 / 4) : options.commitThreshold();
        return new TxnLimits(maxTxn, Math.min(threshold, maxTxn), Math.max(1, options.commitInterval().toMillis()));
    }

    /** Most images whose transaction (descriptors + images + commit) fits in {@code logBlocks}. */
    private static int largestFitting(int logBlocks) {
        int images = Math.max(0, logBlocks - 2);
        while (images > 0 && JournalFormat.logBlocksFor(images) > logBlocks) {
            images--;
        }
        return images;
    }
}
