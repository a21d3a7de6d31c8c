package dionode.node.extent;

/** An extent tree that cannot be trusted: the file is EFSCORRUPTED, nothing is read or written through it. */
public final class ExtentCorruptionException extends RuntimeException {
    public ExtentCorruptionException(String message) {
        super(message);
    }
}
