package dionode.node.lock;

import dionode.node.extent.Mapping;
import dionode.node.lock.LockDecision.Rule;
import dionode.protocol.LockPolicy;

/**
 * The lock decision for a direct write, line by line {@code ext4_dio_write_checks()} of
 * fs/ext4/file.c in the three versions the seed benchmarks (DESIGN §2). Pure and stateless: the
 * inode actor passes a snapshot of the inode and a way to look up extents. Thread-safe.
 */
public final class DioWriteChecks {

    private DioWriteChecks() {
    }

    /**
     * @param offset byte offset of the write
     * @param length byte length, > 0
     * @param nowait IOCB_NOWAIT
     * @param iSize {@code i_size}
     * @param iDisksize {@code i_disksize}
     * @param nosec IS_NOSEC: no setuid/setgid bits to clear
     * @param blockBits log2 of the fs block size
     */
    public static LockDecision decide(long offset, long length, boolean nowait, long iSize, long iDisksize, boolean nosec,
            int blockBits, ExtentLookup lookup, LockPolicy policy) {
        boolean unaligned = unalignedIo(offset, length, blockBits);
        boolean extend = extendingIo(offset, length, iSize, iDisksize);
        return switch (policy) {
            case ZEROING_AWARE -> zeroingAware(offset, length, nowait, iSize, nosec, blockBits, lookup, unaligned, extend);
            case ALIGNED_SHARED -> overwriteBased(offset, length, nowait, iSize, nosec, blockBits, lookup, unaligned, extend, true);
            case OVERWRITE_CHECK -> overwriteBased(offset, length, nowait, iSize, nosec, blockBits, lookup, unaligned, extend, false);
        };
    }

    /** Patches 3+4: exclusive only for !NOSEC, extending, or partial-block zeroing. */
    private static LockDecision zeroingAware(long offset, long length, boolean nowait, long iSize, boolean nosec, int blockBits,
            ExtentLookup lookup, boolean unaligned, boolean extend) {
        boolean needsZeroing = unaligned && dioNeedsZeroing(offset, length, iSize, blockBits, lookup);
        Rule rule;
        if (!nosec) {
            rule = Rule.NOT_NOSEC;
        } else if (extend) {
            rule = Rule.EXTENDING;
        } else if (!unaligned) {
            rule = Rule.ALIGNED;
        } else {
            rule = needsZeroing ? Rule.NEEDS_ZEROING : Rule.UNALIGNED_NO_ZEROING;
        }
        boolean exclusive = !nosec || extend || needsZeroing;
        boolean forceWait = exclusive && (needsZeroing || extend);
        return new LockDecision(exclusive ? LockMode.EXCLUSIVE : LockMode.SHARED, rule, extend, unaligned, needsZeroing,
                forceWait && needsZeroing, forceWait, nowait && exclusive);
    }

    /**
     * The base kernel ({@code alignedShared == false}) and patch 3, which skips the overwrite check
     * for aligned writes.
     */
    private static LockDecision overwriteBased(long offset, long length, boolean nowait, long iSize, boolean nosec,
            int blockBits, ExtentLookup lookup, boolean unaligned, boolean extend, boolean alignedShared) {
        boolean overwrite = true;
        boolean unwritten = false;
        if (unaligned || !alignedShared) {
            Mapping m = overwriteIo(offset, length, iSize, blockBits, lookup);
            overwrite = m != null;
            unwritten = m != null && !m.written();
        }
        boolean zeroRisk = unaligned && (!overwrite || unwritten);
        boolean exclusive = !nosec || extend || (alignedShared ? zeroRisk : (!overwrite || zeroRisk));
        Rule rule;
        if (!nosec) {
            rule = Rule.NOT_NOSEC;
        } else if (extend) {
            rule = Rule.EXTENDING;
        } else if (alignedShared && !unaligned) {
            rule = Rule.ALIGNED;
        } else {
            rule = exclusive ? Rule.NOT_OVERWRITE : Rule.OVERWRITE;
        }
        boolean forceWait = exclusive && (unaligned || extend);
        return new LockDecision(exclusive ? LockMode.EXCLUSIVE : LockMode.SHARED, rule, extend, unaligned, zeroRisk,
                forceWait && zeroRisk, forceWait, nowait && exclusive);
    }

    /** ext4_unaligned_io: offset or length not a multiple of the fs block size. */
    public static boolean unalignedIo(long offset, long length, int blockBits) {
        long mask = (1L << blockBits) - 1;
        return ((offset | length) & mask) != 0;
    }

    /** ext4_extending_io. */
    public static boolean extendingIo(long offset, long length, long iSize, long iDisksize) {
        return offset + length > iSize || offset + length > iDisksize;
    }

    /**
     * ext4_overwrite_io: one lookup must cover the whole range with allocated blocks. Returns that
     * mapping, or null when the write is not an overwrite or the lookup could not tell (null: a
     * cache-only lookup that missed).
     */
    static Mapping overwriteIo(long offset, long length, long iSize, int blockBits, ExtentLookup lookup) {
        if (offset + length > iSize) {
            return null;
        }
        long lblk = offset >>> blockBits;
        long blklen = ((offset + length + (1L << blockBits) - 1) >>> blockBits) - lblk;
        Mapping m = lookup.map(lblk, blklen);
        return m != null && m.len() == blklen && m.allocated() ? m : null;
    }

    /**
     * ext4_dio_needs_zeroing (patch 4): at most two lookups, for the partial head and tail blocks.
     * A lookup that answers null (a cache-only NOWAIT lookup that missed, patch 8) needs zeroing.
     */
    public static boolean dioNeedsZeroing(long pos, long len, long iSize, int blockBits, ExtentLookup lookup) {
        if (pos + len > iSize) {
            return true;
        }
        long blockMask = (1L << blockBits) - 1;
        boolean headPartial = (pos & blockMask) != 0;
        boolean tailPartial = ((pos + len) & blockMask) != 0;
        long headLblk = pos >>> blockBits;
        long tailLblk = (pos + len - 1) >>> blockBits;
        if (headPartial) {
            Mapping m = lookup.map(headLblk, tailLblk - headLblk + 1);
            if (m == null || !m.written()) {
                return true;
            }
            if (!tailPartial || m.lblk() + m.len() > tailLblk) {
                return false;
            }
        }
        if (tailPartial) {
            Mapping m = lookup.map(tailLblk, 1);
            return m == null || !m.written();
        }
        return false;
    }
}
