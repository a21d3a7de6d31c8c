package dionode.node.nbd;

import dionode.protocol.Errno;

/**
 * Numbers of the NBD protocol (NetworkBlockDevice/nbd doc/proto.md) that this front-end speaks:
 * fixed newstyle handshake; simple replies, or structured replies and the {@code base:allocation}
 * metadata context once negotiated. Everything is big-endian. Immutable constants.
 *
 * <pre>
 * handshake (server first)
 *   S: u64 NBDMAGIC  u64 IHAVEOPT  u16 handshake flags (FIXED_NEWSTYLE | NO_ZEROES)
 *   C: u32 client flags
 *   C: u64 IHAVEOPT  u32 option  u32 length  [length bytes]          (repeated)
 *   S: u64 OPT_REPLY_MAGIC  u32 option  u32 reply type  u32 length  [length bytes]
 *
 * transmission
 *   C:  0 u32 REQUEST_MAGIC  4 u16 flags  6 u16 type  8 u64 handle  16 u64 offset  24 u32 length  28 [payload: WRITE]
 *   S:  0 u32 SIMPLE_REPLY_MAGIC  4 u32 error  8 u64 handle  16 [data: successful READ]
 *   S:  0 u32 STRUCTURED_REPLY_MAGIC  4 u16 flags  6 u16 type  8 u64 handle  16 u32 length  20 [length bytes]
 *       (structured replies: one or more chunks per request, the last one flagged REPLY_FLAG_DONE)
 * </pre>
 */
public final class Nbd {
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454f5054L;
    public static final long OPT_REPLY_MAGIC = 0x0003e889045565a9L;
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    public static final int REQUEST_HEADER_BYTES = 28;
    public static final int REPLY_HEADER_BYTES = 16;
    public static final int OPTION_HEADER_BYTES = 16;

    /** Handshake flags (server). */
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 1 << 1;
    /** Client flags. */
    public static final int FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int FLAG_C_NO_ZEROES = 1 << 1;

    /** Options. */
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;

    /** Option reply types; errors have bit 31 set. */
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    public static final int REP_ERR_UNSUP = 0x80000001;
    public static final int REP_ERR_POLICY = 0x80000002;
    public static final int REP_ERR_INVALID = 0x80000003;
    public static final int REP_ERR_TLS_REQD = 0x80000005;
    public static final int REP_ERR_UNKNOWN = 0x80000006;
    public static final int REP_ERR_TOO_BIG = 0x80000009;

    /** Info types of NBD_REP_INFO. */
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    /** Transmission flags. */
    public static final int FLAG_HAS_FLAGS = 1;
    public static final int FLAG_SEND_FLUSH = 1 << 2;
    public static final int FLAG_SEND_FUA = 1 << 3;
    public static final int FLAG_SEND_TRIM = 1 << 5;
    public static final int FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int FLAG_SEND_DF = 1 << 7;
    public static final int FLAG_CAN_MULTI_CONN = 1 << 8;

    /** Commands. */
    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;

    /** Command flags. */
    public static final int CMD_FLAG_FUA = 1;
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int CMD_FLAG_DF = 1 << 2;
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;

    /** Structured reply chunks: the flag of the last chunk, and the chunk types. */
    public static final int REPLY_FLAG_DONE = 1;
    public static final int REPLY_TYPE_NONE = 0;
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    public static final int REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int REPLY_TYPE_ERROR = (1 << 15) + 1;

    /** The one metadata context served, and its flags. */
    public static final String META_BASE_ALLOCATION = "base:allocation";
    public static final int STATE_HOLE = 1;
    public static final int STATE_ZERO = 1 << 1;

    /** Error values of replies (the protocol's restricted set). */
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    /** IANA port of NBD. */
    public static final int DEFAULT_PORT = 10809;
    /**
     * What a client that learned no block sizes may send in one READ or WRITE (the spec's default
     * maximum, 32 MiB). Larger writes close the connection; larger reads are refused.
     */
    public static final int DEFAULT_CLIENT_MAX = 32 << 20;
    /** Longest export name or error text the spec allows. */
    public static final int MAX_STRING_BYTES = 4096;

    private Nbd() {
    }

    /**
     * The NBD error value for a node errno. NBD knows only a few values: the spec asks for EFBIG
     * (and EDQUOT) as ENOSPC and EPERM for writes to a read-only export, so EROFS (journal aborted,
     * node read-only) is EPERM, and so is EACCES (the caller may not); errors that mean the export or the node failed under the client
     * (ENOENT of an unlinked export, ESTALE of one whose number a new file reuses, EFSCORRUPTED,
     * EBADMSG, a still-busy inode) are EIO. EAGAIN
     * never gets here from a request the client could retry itself: {@link Transmission} retries
     * it, and only a persisting one becomes EIO.
     */
    public static int error(Errno errno) {
        return switch (errno) {
            case EPERM, EACCES, EROFS -> EPERM;
            case ENOMEM -> ENOMEM;
            case EINVAL, ENAMETOOLONG -> EINVAL;
            case ENOSPC, EFBIG -> ENOSPC;
            case EOPNOTSUPP -> ENOTSUP;
            case EIO, ENOENT, ESTALE, EBADF, EAGAIN, EBUSY, EEXIST, EBADMSG, EFSCORRUPTED, EHOSTDOWN -> EIO;
        };
    }
}
