package dionode.protocol;

/**
 * Bits of the {@code flags} field of read and write requests, named after the kernel flags they
 * stand for. Immutable constants.
 */
public final class IoFlags {
    /** RWF_NOWAIT / IOCB_NOWAIT: never wait; answer EAGAIN instead. */
    public static final int NOWAIT = 1;
    /**
     * io_uring/libaio style submission: a shared lock is released once the I/O is submitted and the
     * request stays counted as DIO in flight until it completes. Without it a request is sync, like
     * pwrite on an O_DIRECT fd.
     */
    public static final int ASYNC = 1 << 1;
    /** RWF_DSYNC / NBD FUA: reply only when the data and the metadata that reaches it are durable. */
    public static final int DURABLE = 1 << 2;
    /** A buffered (non-O_DIRECT) request: any byte offset and length; drains direct I/O first. */
    public static final int BUFFERED = 1 << 3;
    /** Every bit above; a request with any other bit set is refused (EINVAL). */
    public static final int ALL = NOWAIT | ASYNC | DURABLE | BUFFERED;

    private IoFlags() {
    }

    public static boolean has(int flags, int bit) {
        return (flags & bit) != 0;
    }
}
