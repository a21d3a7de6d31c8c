package dionode.node.extent;

/**
 * One stored extent (ext4's {@code struct ext4_extent}): logical blocks {@code [lblk, lblk+len)} live
 * at physical blocks {@code [pblk, pblk+len)}, either written or unwritten (allocated, reads as
 * zeros). Immutable.
 */
public record Extent(long lblk, int len, long pblk, boolean unwritten) {
    /** EXT_INIT_MAX_LEN: longest written extent one record can hold. */
    public static final int MAX_WRITTEN_LEN = 1 << 15;
    /** EXT_UNWRITTEN_MAX_LEN: unwritten extents lose one to the flag bit. */
    public static final int MAX_UNWRITTEN_LEN = (1 << 15) - 1;

    public Extent {
        if (len <= 0 || len > maxLen(unwritten)) {
            throw new IllegalArgumentException("extent length " + len + " out of range");
        }
        if (lblk < 0 || pblk <= 0) {
            throw new IllegalArgumentException("extent at lblk " + lblk + " pblk " + pblk);
        }
    }

    public static int maxLen(boolean unwritten) {
        return unwritten ? MAX_UNWRITTEN_LEN : MAX_WRITTEN_LEN;
    }

    public long end() {
        return lblk + len;
    }

    public long pend() {
        return pblk + len;
    }

    /** The part of this extent inside {@code [from, to)}; the caller guarantees they overlap. */
    public Extent slice(long from, long to) {
        long start = Math.max(from, lblk);
        long stop = Math.min(to, end());
        return new Extent(start, (int) (stop - start), pblk + (start - lblk), unwritten);
    }

    public Extent withState(boolean newUnwritten) {
        return new Extent(lblk, len, pblk, newUnwritten);
    }

    /** ext4_can_extents_be_merged: logically and physically contiguous, same state, fits one record. */
    public boolean canAppend(Extent next) {
        return end() == next.lblk && pend() == next.pblk && unwritten == next.unwritten
                && (long) len + next.len <= maxLen(unwritten);
    }
}
