package dionode.node.lock;

/**
 * The outcome of {@link DioWriteChecks#decide}: which lock a direct write needs and what it must do
 * under it. Immutable.
 *
 * @param mode the lock to hold
 * @param rule which row of the decision (DESIGN §2) chose the mode
 * @param extending the write goes past {@code i_size} or {@code i_disksize}
 * @param unaligned offset or length not a multiple of the fs block size
 * @param needsZeroing a partial head or tail block sits on a hole or unwritten extent
 * @param inodeDioWait drain in-flight direct I/O before issuing this write
 * @param forceWait IOMAP_DIO_FORCE_WAIT: the lock is held until the I/O completes even for async requests
 * @param eagain a NOWAIT request must be answered EAGAIN now, before anything changes
 */
public record LockDecision(LockMode mode, Rule rule, boolean extending, boolean unaligned, boolean needsZeroing,
        boolean inodeDioWait, boolean forceWait, boolean eagain) {

    /** Why the mode was chosen, in the order ext4_dio_write_checks() tests. */
    public enum Rule {
        /** Rule 1: setuid/setgid bits must be cleared (file_remove_privs). */
        NOT_NOSEC,
        /** Rule 2: extending write; i_disksize and the orphan list need exclusive. */
        EXTENDING,
        /** Rule 3 (patch 3): aligned, not extending: shared whatever the extents. */
        ALIGNED,
        /** Rule 4 (patch 4): unaligned and a partial block needs zeroing. */
        NEEDS_ZEROING,
        /** Rule 5 (patch 4): unaligned, no partial-block zeroing. */
        UNALIGNED_NO_ZEROING,
        /** Base/patch-3 check: one lookup covered the range with allocated blocks (written if unaligned). */
        OVERWRITE,
        /** Base/patch-3 check: not a pure overwrite. */
        NOT_OVERWRITE,
        /** ext4_buffered_write_iter: always exclusive, draining direct I/O first (patch 2). */
        BUFFERED
    }

    /** The decision for a buffered write: exclusive, drained, and held until its I/O completes. */
    public static LockDecision buffered(boolean extending) {
        return new LockDecision(LockMode.EXCLUSIVE, Rule.BUFFERED, extending, false, false, true, true, false);
    }

    public boolean exclusive() {
        return mode == LockMode.EXCLUSIVE;
    }
}
