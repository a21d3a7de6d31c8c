package dionode.node.device;

/**
 * The device is held by another open: a node, mkfs or fsck in another process (or another
 * open in this one). Raised at open, before anything is read or written, so the holder's view
 * of the metadata is the only one. The message is the user's: {@code device PATH is in use by
 * another process}.
 *
 * <p>Immutable (thread-safe).
 */
public final class DeviceInUseException extends NativeIOException {
    private static final long serialVersionUID = 1L;

    /**
     * @param syscall the call that found the device held ({@code flock}, or {@code open} with O_EXCL)
     * @param errno   what it answered: EWOULDBLOCK from flock, EBUSY from an O_EXCL open
     */
    DeviceInUseException(String syscall, String path, int errno) {
        super(errno, syscall, path, "device " + path + " is in use by another process");
    }
}
