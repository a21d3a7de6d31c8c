package dionode.node.nbd;

import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;

/**
 * One file of the namespace as an NBD export, as negotiated: its size is the file's {@code i_size}
 * at negotiation rounded down to {@code minBlock} (the tail sector of an unaligned file cannot be
 * reached with direct I/O), fixed for the connection. Immutable.
 *
 * @param minBlock the device's logical sector size: direct I/O needs this alignment
 * @param preferredBlock the file system block size: smaller or unaligned writes may need
 *     the exclusive lock and partial-block zeroing
 * @param maxPayload the largest READ or WRITE one node request carries
 * @param blockSize the file system block size: the unit of the file's extent map
 */
public record Export(String name, FileId file, long size, LockPolicy policy, int minBlock, int preferredBlock, int maxPayload,
        int blockSize) {

    /**
     * Flush, FUA, trim and write-zeroes are supported. CAN_MULTI_CONN holds: every connection
     * drives the same inode actors and the same device, and the node has no per-connection cache
     * (direct I/O; the buffered path's page cache is node-wide). A WRITE is answered only after
     * its data is on the device and its metadata (written extents, i_disksize) sits in the
     * node's one journal; a FLUSH is an fsync, which commits that journal's running transaction
     * and flushes the device (even when nothing is left to commit). So a FLUSH or FUA reply covers
     * every write any connection had been answered for, as the flag promises. SEND_DF only with
     * structured replies (the spec forbids it without them): a READ flagged DF is then answered
     * with one content chunk.
     */
    public int transmissionFlags(boolean structured) {
        return Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH | Nbd.FLAG_SEND_FUA | Nbd.FLAG_SEND_TRIM
                | Nbd.FLAG_SEND_WRITE_ZEROES | Nbd.FLAG_CAN_MULTI_CONN | (structured ? Nbd.FLAG_SEND_DF : 0);
    }
}
