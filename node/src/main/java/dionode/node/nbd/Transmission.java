package dionode.node.nbd;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * The transmission phase of one connection: each NBD command becomes the node request the native
 * protocol would send (READ → Read, WRITE → Write with FUA as DURABLE, FLUSH → Fsync, TRIM →
 * PunchHole, WRITE_ZEROES → ZeroRange, FUA on those two → a following Fsync, BLOCK_STATUS →
 * Fiemap), and its reply a simple reply, or, once structured replies were negotiated, structured
 * chunks for READ ({@link StructuredRead}), BLOCK_STATUS ({@link BlockStatus}) and every error
 * (NBD_REPLY_TYPE_ERROR with a message); other successes stay 16-byte simple replies, which the
 * spec allows. Reads and writes are direct, hence sync like pwrite on an O_DIRECT fd: a write
 * holds its lock until the device I/O is done. A READ or WRITE longer than the node's
 * largest request (the advertised maximum) but within the spec's 32 MiB default is split into
 * several node requests (NBD promises no atomicity); TRIM and WRITE_ZEROES become node requests of
 * at most 16 MiB each, in sequence. Checks, in the spec's order of preference:
 * unknown command or flag → EINVAL; past the export's end → ENOSPC for writes, EINVAL for reads
 * and block status; offset or length not a multiple of the minimum block size → EINVAL. EAGAIN
 * from the node (device queue full, too many waiters on the inode) is retried with backoff: NBD
 * has no EAGAIN and every command here may be repeated. Thread-safe: one per connection, no
 * mutable state.
 */
final class Transmission {
    /** How often and how long an EAGAIN is retried before it becomes EIO. */
    static final int EAGAIN_RETRIES = 40;
    static final long EAGAIN_MAX_BACKOFF_MS = 100;
    /** Largest range of one node PunchHole or ZeroRange. */
    static final long RANGE_PIECE = 16L << 20;

    /** Why a command is refused before it reaches the node. */
    record Refusal(int error, String why) {
    }

    /** What node reads brought back: the bytes, or (data null) the first error reply. */
    record Bytes(ByteString data, Reply error) {
    }

    private final Function<Request, CompletionStage<Reply>> node;
    private final Export export;
    private final boolean structured;
    private final boolean blockStatus;

    Transmission(Function<Request, CompletionStage<Reply>> node, Export export, Negotiation negotiation) {
        this.node = node;
        this.export = export;
        this.structured = negotiation.structured();
        this.blockStatus = negotiation.blockStatusFor(export.name());
    }

    Export export() {
        return export;
    }

    /** The reply: simple (header, plus data for a successful READ), or structured chunks if negotiated. */
    CompletionStage<ByteString> handle(NbdDecoder.Command c) {
        Refusal bad = check(c);
        if (bad != null) {
            return done(failure(c.handle(), bad.error(), bad.why()));
        }
        FileId file = export.file();
        boolean fua = (c.flags() & Nbd.CMD_FLAG_FUA) != 0;
        return switch (c.type()) {
            case Nbd.CMD_READ -> structured ? StructuredRead.read(this, c) : read(c);
            case Nbd.CMD_WRITE -> write(c, fua);
            case Nbd.CMD_FLUSH -> status(c, call(new Request.Fsync(file)));
            case Nbd.CMD_TRIM -> status(c, thenFsync(ranges(c.offset(), c.length(),
                    (off, len) -> new Request.PunchHole(file, off, len)), fua));
            case Nbd.CMD_WRITE_ZEROES -> status(c, thenFsync(ranges(c.offset(), c.length(),
                    (off, len) -> new Request.ZeroRange(file, off, len, (c.flags() & Nbd.CMD_FLAG_NO_HOLE) == 0)), fua));
            case Nbd.CMD_BLOCK_STATUS -> BlockStatus.reply(this, c);
            default -> done(failure(c.handle(), Nbd.EINVAL, "command " + c.type() + " is not supported"));
        };
    }

    /** Why a command must not reach the node, or null. */
    Refusal check(NbdDecoder.Command c) {
        int allowed = switch (c.type()) {
            case Nbd.CMD_READ -> Nbd.CMD_FLAG_FUA | (structured ? Nbd.CMD_FLAG_DF : 0);
            case Nbd.CMD_WRITE, Nbd.CMD_FLUSH, Nbd.CMD_TRIM -> Nbd.CMD_FLAG_FUA;
            case Nbd.CMD_WRITE_ZEROES -> Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE;
            case Nbd.CMD_BLOCK_STATUS -> blockStatus ? Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_REQ_ONE : -1;
            default -> -1;
        };
        if (allowed < 0) {
            return new Refusal(Nbd.EINVAL, c.type() == Nbd.CMD_BLOCK_STATUS
                    ? "no metadata context was selected for export '" + export.name() + "'"
                    : "command " + c.type() + " is not supported");
        }
        if ((c.flags() & ~allowed) != 0) {
            return new Refusal(Nbd.EINVAL, "flags 0x" + Integer.toHexString(c.flags()) + " are not valid for command " + c.type());
        }
        if (c.type() == Nbd.CMD_FLUSH) {
            return c.offset() == 0 && c.length() == 0 ? null : new Refusal(Nbd.EINVAL, "a flush has no offset or length");
        }
        long off = c.offset();
        long len = c.length();
        if (off < 0 || off > export.size() || len > export.size() - off) {
            boolean write = c.type() != Nbd.CMD_READ && c.type() != Nbd.CMD_BLOCK_STATUS;
            return new Refusal(write ? Nbd.ENOSPC : Nbd.EINVAL, "the range ends past the export's " + export.size() + " bytes");
        }
        if (((off | len) % export.minBlock()) != 0) {
            return new Refusal(Nbd.EINVAL, "offset and length must be multiples of " + export.minBlock());
        }
        if (c.type() == Nbd.CMD_READ && len > Nbd.DEFAULT_CLIENT_MAX) {
            return new Refusal(Nbd.EOVERFLOW, "a read is at most " + Nbd.DEFAULT_CLIENT_MAX + " bytes");
        }
        if (c.type() == Nbd.CMD_READ && (c.flags() & Nbd.CMD_FLAG_DF) != 0 && len > export.maxPayload()) {
            // one content chunk may not carry more than the advertised maximum payload
            return new Refusal(Nbd.EOVERFLOW, "an unfragmented read is at most " + export.maxPayload() + " bytes");
        }
        if (c.type() == Nbd.CMD_BLOCK_STATUS && len == 0) {
            return new Refusal(Nbd.EINVAL, "a block status query needs a length");
        }
        return null;
    }

    /**
     * The most wire bytes a command's reply takes, reserved before it runs. Structured: a READ's
     * data and its chunk headers ({@link StructuredRead#replyBound}), a BLOCK_STATUS chunk of as many
     * descriptors as a window can have, or an error chunk; each with the heap the node's fiemap
     * answer may take meanwhile.
     */
    long replyBound(int type, long length) {
        long read = Math.min(length, Nbd.DEFAULT_CLIENT_MAX);
        if (!structured) {
            return Nbd.REPLY_HEADER_BYTES + (type == Nbd.CMD_READ ? read : 0);
        }
        long bound = switch (type) {
            case Nbd.CMD_READ -> StructuredRead.replyBound(read, export);
            case Nbd.CMD_BLOCK_STATUS -> BlockStatus.replyBound(export);
            default -> 0;
        };
        return Math.max(StructuredReply.MAX_ERROR_CHUNK, bound);
    }

    /** A refusal or failure: a simple reply with the error, or an error chunk with the reason. */
    ByteString failure(long handle, int error, String why) {
        return structured ? StructuredReply.error(handle, error, why) : header(error, handle);
    }

    /** A node reply that is not a success, as a failure. */
    ByteString failure(long handle, Reply r) {
        return failure(handle, errorOf(r) == 0 ? Nbd.EIO : errorOf(r), describe(r));
    }

    private CompletionStage<ByteString> read(NbdDecoder.Command c) {
        int len = (int) c.length();
        if (len == 0) {
            return done(header(0, c.handle()));
        }
        return readBytes(c.offset(), len).thenApply(b -> b.data() == null ? header(errorOf(b.error()), c.handle())
                : header(0, c.handle()).concat(b.data()));
    }

    /** {@code [offset, offset+len)} as node reads of at most the node's maximum each, in parallel. */
    CompletionStage<Bytes> readBytes(long offset, int len) {
        int max = export.maxPayload();
        List<CompletableFuture<Reply>> parts = new ArrayList<>();
        for (int at = 0; at < len; at += max) {
            parts.add(call(new Request.Read(export.file(), offset + at, Math.min(max, len - at), 0)).toCompletableFuture());
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            ByteString all = ByteString.emptyByteString();
            for (int i = 0; i < parts.size(); i++) {
                Reply r = parts.get(i).join();
                if (!(r instanceof Reply.Data d)) {
                    return new Bytes(null, r);
                }
                int want = Math.min(max, len - i * max);
                // short only if the file shrank under the export: past i_size reads as zeros
                all = all.concat(ByteString.fromArrayUnsafe(d.data().length == want ? d.data() : Arrays.copyOf(d.data(), want)));
            }
            return new Bytes(all, null);
        });
    }

    private CompletionStage<ByteString> write(NbdDecoder.Command c, boolean fua) {
        byte[] data = c.payload();
        if (data.length == 0) {
            return done(header(0, c.handle()));
        }
        int flags = fua ? IoFlags.DURABLE : 0;
        int max = export.maxPayload();
        if (data.length <= max) {
            return status(c, call(new Request.Write(export.file(), c.offset(), data, flags)));
        }
        List<CompletableFuture<Reply>> parts = new ArrayList<>();
        for (int at = 0; at < data.length; at += max) {
            byte[] piece = Arrays.copyOfRange(data, at, Math.min(data.length, at + max));
            parts.add(call(new Request.Write(export.file(), c.offset() + at, piece, flags)).toCompletableFuture());
        }
        return status(c, CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            for (CompletableFuture<Reply> p : parts) {
                if (p.join() instanceof Reply.Error err) {
                    return err;
                }
            }
            return new Reply.Written(data.length);
        }));
    }

    /**
     * TRIM and WRITE_ZEROES (up to 4 GiB each) as node requests of at most {@link #RANGE_PIECE}
     * bytes, one after another, cut at multiples of it so whole blocks stay whole: each piece is
     * an exclusive extent operation of bounded size (a long one would hold the inode's lock for
     * all of it, and over a fragmented range the node's extent removal goes deep).
     */
    private CompletionStage<Reply> ranges(long offset, long length, java.util.function.BiFunction<Long, Long, Request> piece) {
        if (length == 0) {
            return CompletableFuture.completedFuture(new Reply.Done());
        }
        long end = offset + length;
        long cut = Math.min(end, (offset / RANGE_PIECE + 1) * RANGE_PIECE);
        CompletionStage<Reply> first = call(piece.apply(offset, cut - offset));
        if (cut == end) {
            return first;
        }
        return first.thenCompose(r -> r instanceof Reply.Error ? CompletableFuture.completedFuture(r)
                : ranges(cut, end - cut, piece));
    }

    private CompletionStage<Reply> thenFsync(CompletionStage<Reply> first, boolean fua) {
        if (!fua) {
            return first;
        }
        return first.thenCompose(r -> r instanceof Reply.Error ? CompletableFuture.completedFuture(r)
                : call(new Request.Fsync(export.file())));
    }

    private CompletionStage<ByteString> status(NbdDecoder.Command c, CompletionStage<Reply> reply) {
        return reply.handle((r, e) -> {
            if (e != null) {
                return failure(c.handle(), Nbd.EIO, String.valueOf(e));
            }
            return errorOf(r) == 0 ? header(0, c.handle()) : failure(c.handle(), r);
        });
    }

    private static String describe(Reply r) {
        return r instanceof Reply.Error e ? e.errno() + ": " + e.message() : "unexpected reply " + r.getClass().getSimpleName();
    }

    static int errorOf(Reply r) {
        if (r instanceof Reply.Error err) {
            return Nbd.error(err.errno());
        }
        return r instanceof Reply.Done || r instanceof Reply.Written || r instanceof Reply.Data ? 0 : Nbd.EIO;
    }

    /** A node request, EAGAIN retried with exponential backoff (1 ms doubling to 100 ms). */
    CompletionStage<Reply> call(Request r) {
        return call(r, 0);
    }

    private CompletionStage<Reply> call(Request r, int attempt) {
        CompletionStage<Reply> f;
        try {
            f = node.apply(r);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(new Reply.Error(Errno.EIO, String.valueOf(e)));
        }
        return f.exceptionally(e -> new Reply.Error(Errno.EIO, String.valueOf(e))).thenCompose(rep -> {
            if (rep instanceof Reply.Error err && err.errno() == Errno.EAGAIN && attempt < EAGAIN_RETRIES) {
                long ms = Math.min(EAGAIN_MAX_BACKOFF_MS, 1L << Math.min(attempt, 16));
                return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(ms, TimeUnit.MILLISECONDS))
                        .thenCompose(x -> call(r, attempt + 1));
            }
            return CompletableFuture.completedFuture(rep);
        });
    }

    static ByteString header(int error, long handle) {
        return new ByteStringBuilder().putInt(Nbd.SIMPLE_REPLY_MAGIC, Handshake.Bo.BE).putInt(error, Handshake.Bo.BE)
                .putLong(handle, Handshake.Bo.BE).result();
    }

    private static CompletionStage<ByteString> done(ByteString b) {
        return CompletableFuture.completedFuture(b);
    }
}
