package dionode.node.inode;

import dionode.node.fs.Inode;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;

/** The byte-range checks every inode request with an offset and length passes first. Pure. Thread-safe. */
final class RangeChecks {

    private RangeChecks() {
    }

    /**
     * The refusal of {@code [offset, offset + length)}, or null when it is a valid range of a
     * file of at most {@code maxBytes} ({@link Inode#maxBytes}); direct I/O ({@code sectorAligned})
     * must also be aligned to the device's sector.
     */
    static Reply.Error badRange(long offset, long length, boolean sectorAligned, int sectorSize, long maxBytes) {
        if (offset < 0 || length < 0) {
            return new Reply.Error(Errno.EINVAL, "negative offset or length");
        }
        if (sectorAligned && ((offset | length) & (sectorSize - 1)) != 0) {
            return new Reply.Error(Errno.EINVAL, "direct I/O needs offset and length aligned to the " + sectorSize
                    + "-byte sector (offset " + offset + ", length " + length + ")");
        }
        if (offset + length > maxBytes || offset + length < 0) {
            return new Reply.Error(Errno.EFBIG, "range ends past the maximum file size of " + maxBytes + " bytes");
        }
        return null;
    }
}
