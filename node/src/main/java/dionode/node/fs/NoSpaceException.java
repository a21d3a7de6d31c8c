package dionode.node.fs;

/** The data area has no free block for an allocation (ENOSPC). */
public final class NoSpaceException extends RuntimeException {
    public NoSpaceException(String message) {
        super(message, null, false, false);
    }
}
