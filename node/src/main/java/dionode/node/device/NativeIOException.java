package dionode.node.device;

import java.io.IOException;

/**
 * A failed system call: carries the Linux {@code errno} so that the node can map
 * it to its protocol error code, and names the syscall and the path in its message.
 *
 * <p>Immutable (thread-safe).
 */
public class NativeIOException extends IOException {
    private static final long serialVersionUID = 1L;

    // Linux (x86_64 and generic) errno values that this package raises or inspects.
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    /** The same number as EAGAIN on Linux: what a non-blocking flock answers when the lock is held. */
    public static final int EWOULDBLOCK = EAGAIN;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int EROFS = 30;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;
    public static final int EDQUOT = 122;

    private final int errno;
    private final String syscall;
    private final String path;

    /**
     * @param syscall the failed call, e.g. {@code "pwrite"}
     * @param path    the file it was made on, or {@code null} if unknown
     * @param errno   the Linux errno
     * @param detail  arguments or context worth reading in a log, or {@code null}
     */
    public NativeIOException(String syscall, String path, int errno, String detail) {
        this(errno, syscall, path, format(syscall, path, errno, detail));
    }

    /** For subclasses whose message is complete as given. */
    protected NativeIOException(int errno, String syscall, String path, String message) {
        super(message);
        this.errno = errno;
        this.syscall = syscall;
        this.path = path;
    }

    /**
     * For a failure whose explanation is more useful than the raw syscall line
     * (e.g. "this filesystem refuses O_DIRECT"): {@code message} is used as is.
     */
    public static NativeIOException withMessage(String syscall, String path, int errno, String message) {
        return new NativeIOException(errno, syscall, path, message);
    }

    /** The Linux errno of the failure (e.g. {@link #EIO}, {@link #ENOSPC}). */
    public int errno() {
        return errno;
    }

    /** The failed system call, e.g. {@code "pwrite"}. */
    public String syscall() {
        return syscall;
    }

    /** The path the call was made on, or {@code null} if unknown. */
    public String path() {
        return path;
    }

    /** The symbolic name of a Linux errno ({@code "EIO"}), or {@code "errno N"} if not one we name. */
    public static String errnoName(int errno) {
        switch (errno) {
            case EPERM: return "EPERM";
            case ENOENT: return "ENOENT";
            case EINTR: return "EINTR";
            case EIO: return "EIO";
            case ENXIO: return "ENXIO";
            case EBADF: return "EBADF";
            case EAGAIN: return "EAGAIN";
            case ENOMEM: return "ENOMEM";
            case EACCES: return "EACCES";
            case EFAULT: return "EFAULT";
            case EBUSY: return "EBUSY";
            case EEXIST: return "EEXIST";
            case ENODEV: return "ENODEV";
            case ENOTDIR: return "ENOTDIR";
            case EISDIR: return "EISDIR";
            case EINVAL: return "EINVAL";
            case EMFILE: return "EMFILE";
            case ENOTTY: return "ENOTTY";
            case EFBIG: return "EFBIG";
            case ENOSPC: return "ENOSPC";
            case ESPIPE: return "ESPIPE";
            case EROFS: return "EROFS";
            case ENAMETOOLONG: return "ENAMETOOLONG";
            case ENOSYS: return "ENOSYS";
            case EOPNOTSUPP: return "EOPNOTSUPP";
            case EDQUOT: return "EDQUOT";
            default: return "errno " + errno;
        }
    }

    private static String format(String syscall, String path, int errno, String detail) {
        StringBuilder sb = new StringBuilder(96);
        sb.append(syscall).append('(').append(path == null ? "?" : path);
        if (detail != null && !detail.isEmpty()) {
            sb.append(", ").append(detail);
        }
        sb.append(") failed: ").append(errnoName(errno)).append(" (errno ").append(errno).append(')');
        return sb.toString();
    }
}
