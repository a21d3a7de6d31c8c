package dionode.protocol;

/**
 * errno-style error codes carried by every failed reply (DESIGN §6). Values are Linux's, so a code
 * printed by the node means what the same number means to a kernel user. Immutable.
 *
 * <p>Wire compatibility: the codec sends the numeric {@link #code()}, never the ordinal, so new
 * constants may be added anywhere.
 */
public enum Errno {
    EPERM(1),
    ENOENT(2),
    EIO(5),
    EBADF(9),
    /** The caller may not do this to the file (its mode, its owner); nothing was done. */
    EACCES(13),
    EAGAIN(11),
    ENOMEM(12),
    EBUSY(16),
    EEXIST(17),
    EINVAL(22),
    EFBIG(27),
    ENOSPC(28),
    EROFS(30),
    ENAMETOOLONG(36),
    EBADMSG(74),
    EOPNOTSUPP(95),
    /** A file handle whose inode number now belongs to another file (or generation); nothing was done. */
    ESTALE(116),
    /** The node serving the file's volume is down or did not answer within the remote timeout. */
    EHOSTDOWN(112),
    /** ext4's EFSCORRUPTED is EUCLEAN. */
    EFSCORRUPTED(117);

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The constant for a numeric code; unknown codes become {@link #EIO} so a reply is never lost. */
    public static Errno fromCode(int code) {
        for (Errno e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return EIO;
    }
}
