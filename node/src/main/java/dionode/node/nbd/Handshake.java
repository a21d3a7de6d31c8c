package dionode.node.nbd;

import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * Option haggling of the fixed newstyle handshake: answers one option at a time, asking the
 * namespace (Lookup, ListFiles) and the inode (Stat) through the same requests as the native
 * protocol. Supported: EXPORT_NAME, ABORT, LIST, INFO, GO, STRUCTURED_REPLY, LIST_META_CONTEXT and
 * SET_META_CONTEXT ({@link MetaContexts}); STARTTLS is NBD_REP_ERR_POLICY on a node without TLS
 * and NBD_REP_ERR_INVALID inside TLS (before TLS, {@link StartTls} answers every option);
 * everything else (extended headers, ...) is NBD_REP_ERR_UNSUP. A client that never asks for structured replies gets simple ones, as before.
 * An unknown export is NBD_REP_ERR_UNKNOWN to INFO and GO (the connection stays up for the next
 * option); to EXPORT_NAME, which cannot carry an error, the spec leaves only closing the
 * connection. What options agreed on travels in and out as a {@link Negotiation} the caller keeps;
 * Handshake itself holds nothing between options. Thread-safe.
 */
final class Handshake {
    private static final byte[] ZEROES = new byte[124];

    /**
     * What to send for an option; {@code export} non-null starts transmission, {@code close} ends the
     * connection; {@code negotiation} is what holds from now on (null: unchanged).
     */
    record Outcome(ByteString reply, Export export, boolean close, Negotiation negotiation) {
        Outcome(ByteString reply, Export export, boolean close) {
            this(reply, export, close, null);
        }
    }

    private final Function<Request, CompletionStage<Reply>> node;
    private final int minBlock;
    private final int maxPayload;
    /** True inside TLS (a second STARTTLS is invalid); false on a node without TLS (STARTTLS is refused by policy). */
    private final boolean insideTls;

    Handshake(Function<Request, CompletionStage<Reply>> node, int minBlock, int maxPayload, boolean insideTls) {
        this.node = node;
        this.minBlock = minBlock;
        this.maxPayload = maxPayload;
        this.insideTls = insideTls;
    }

    /** The server's first bytes. */
    static ByteString greeting() {
        return new ByteStringBuilder().putLong(Nbd.NBDMAGIC, Bo.BE).putLong(Nbd.IHAVEOPT, Bo.BE)
                .putShort(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, Bo.BE).result();
    }

    CompletionStage<Outcome> option(int option, byte[] data, boolean noZeroes, Negotiation n) {
        try {
            return switch (option) {
                case Nbd.OPT_EXPORT_NAME -> exportName(data, noZeroes, n.structured());
                case Nbd.OPT_ABORT -> done(new Outcome(reply(option, Nbd.REP_ACK, null), null, true));
                case Nbd.OPT_LIST -> list(data);
                case Nbd.OPT_INFO, Nbd.OPT_GO -> info(option, data, n.structured());
                case Nbd.OPT_STARTTLS -> insideTls ? error(option, Nbd.REP_ERR_INVALID, "TLS is already on")
                        : error(option, Nbd.REP_ERR_POLICY, "this node is not configured for TLS");
                case Nbd.OPT_STRUCTURED_REPLY -> structuredReply(data, n);
                case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> done(MetaContexts.answer(option, data, n));
                default -> error(option, Nbd.REP_ERR_UNSUP, "option " + option + " is not supported");
            };
        } catch (RuntimeException e) {
            return error(option, Nbd.REP_ERR_INVALID, String.valueOf(e.getMessage()));
        }
    }

    /** No data allowed (spec: SHOULD be ERR_INVALID); asking twice is acknowledged twice. */
    private CompletionStage<Outcome> structuredReply(byte[] data, Negotiation n) {
        if (data.length != 0) {
            return error(Nbd.OPT_STRUCTURED_REPLY, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data");
        }
        return done(new Outcome(reply(Nbd.OPT_STRUCTURED_REPLY, Nbd.REP_ACK, null), null, false, n.withStructuredReplies()));
    }

    private CompletionStage<Outcome> exportName(byte[] data, boolean noZeroes, boolean structured) {
        String name = string(data, 0, data.length);
        if (name == null) {
            return done(new Outcome(null, null, true));
        }
        return resolve(name).thenApply(r -> {
            if (r.export() == null) {
                return new Outcome(null, null, true);
            }
            ByteStringBuilder b = new ByteStringBuilder().putLong(r.export().size(), Bo.BE)
                    .putShort(r.export().transmissionFlags(structured), Bo.BE);
            if (!noZeroes) {
                b.putBytes(ZEROES);
            }
            return new Outcome(b.result(), r.export(), false);
        });
    }

    private CompletionStage<Outcome> list(byte[] data) {
        if (data.length != 0) {
            return error(Nbd.OPT_LIST, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
        }
        return node.apply(new Request.ListFiles()).thenApply(rep -> {
            if (!(rep instanceof Reply.FileList list)) {
                return new Outcome(reply(Nbd.OPT_LIST, Nbd.REP_ERR_INVALID, utf8(describe(rep))), null, false);
            }
            ByteStringBuilder b = new ByteStringBuilder();
            for (Reply.DirEntry e : list.entries()) {
                byte[] name = utf8(e.name());
                ByteString body = new ByteStringBuilder().putInt(name.length, Bo.BE).putBytes(name).result();
                b.append(reply(Nbd.OPT_LIST, Nbd.REP_SERVER, body.toArray()));
            }
            b.append(reply(Nbd.OPT_LIST, Nbd.REP_ACK, null));
            return new Outcome(b.result(), null, false);
        });
    }

    /** INFO and GO: u32 name length, name, u16 count, count x u16 info types. */
    private CompletionStage<Outcome> info(int option, byte[] data, boolean structured) {
        ByteBuffer in = ByteBuffer.wrap(data);
        if (in.remaining() < 4) {
            return error(option, Nbd.REP_ERR_INVALID, "option data too short");
        }
        long nameLen = Integer.toUnsignedLong(in.getInt());
        if (nameLen > in.remaining() - 2) {
            return error(option, Nbd.REP_ERR_INVALID, "export name length " + nameLen + " does not fit the option");
        }
        if (nameLen > Nbd.MAX_STRING_BYTES) {
            return error(option, Nbd.REP_ERR_TOO_BIG, "export names are at most " + Nbd.MAX_STRING_BYTES + " bytes");
        }
        String name = string(data, 4, (int) nameLen);
        in.position(4 + (int) nameLen);
        int count = Short.toUnsignedInt(in.getShort());
        if (in.remaining() != 2 * count) {
            return error(option, Nbd.REP_ERR_INVALID, count + " info requests do not match the option length");
        }
        boolean wantName = false;
        boolean wantDescription = false;
        for (int i = 0; i < count; i++) {
            int t = Short.toUnsignedInt(in.getShort());
            wantName |= t == Nbd.INFO_NAME;
            wantDescription |= t == Nbd.INFO_DESCRIPTION;
        }
        if (name == null) {
            return error(option, Nbd.REP_ERR_INVALID, "export name is not valid UTF-8 without NUL");
        }
        boolean nameWanted = wantName;
        boolean descriptionWanted = wantDescription;
        return resolve(name).thenApply(r -> {
            Export e = r.export();
            if (e == null) {
                return new Outcome(reply(option, Nbd.REP_ERR_UNKNOWN, utf8(r.why())), null, false);
            }
            ByteStringBuilder b = new ByteStringBuilder();
            b.append(reply(option, Nbd.REP_INFO, new ByteStringBuilder().putShort(Nbd.INFO_EXPORT, Bo.BE)
                    .putLong(e.size(), Bo.BE).putShort(e.transmissionFlags(structured), Bo.BE).result().toArray()));
            if (nameWanted) {
                b.append(reply(option, Nbd.REP_INFO,
                        new ByteStringBuilder().putShort(Nbd.INFO_NAME, Bo.BE).putBytes(utf8(e.name())).result().toArray()));
            }
            if (descriptionWanted) {
                String d = "dionode file '" + e.name() + "' (inode " + e.file().ino() + ", lock policy " + e.policy() + ")";
                b.append(reply(option, Nbd.REP_INFO,
                        new ByteStringBuilder().putShort(Nbd.INFO_DESCRIPTION, Bo.BE).putBytes(utf8(d)).result().toArray()));
            }
            // sent whether asked or not (clients ignore info they did not ask for); requests that break
            // the minimum are refused with EINVAL rather than the handshake refusing such clients
            b.append(reply(option, Nbd.REP_INFO, new ByteStringBuilder().putShort(Nbd.INFO_BLOCK_SIZE, Bo.BE)
                    .putInt(e.minBlock(), Bo.BE).putInt(e.preferredBlock(), Bo.BE).putInt(e.maxPayload(), Bo.BE)
                    .result().toArray()));
            b.append(reply(option, Nbd.REP_ACK, null));
            return new Outcome(b.result(), option == Nbd.OPT_GO ? e : null, false);
        });
    }

    private record Resolved(Export export, String why) {
    }

    /** Lookup, then Stat: the export, or why there is none. */
    private CompletionStage<Resolved> resolve(String name) {
        return node.apply(new Request.Lookup(name)).thenCompose(rep -> {
            if (!(rep instanceof Reply.InodeInfo info)) {
                return CompletableFuture.completedFuture(new Resolved(null, rep instanceof Reply.Error err
                        && err.errno() == Errno.ENOENT ? "no export named '" + name + "'" : describe(rep)));
            }
            return node.apply(new Request.Stat(info.file())).thenApply(st -> {
                if (!(st instanceof Reply.FileStat s)) {
                    return new Resolved(null, describe(st));
                }
                int preferred = Math.max(minBlock, s.blockSize());
                return new Resolved(new Export(name, info.file(), s.size() / minBlock * minBlock, s.policy(), minBlock, preferred,
                        maxPayload, s.blockSize()), null);
            });
        });
    }

    private static String describe(Reply r) {
        return r instanceof Reply.Error e ? e.errno() + ": " + e.message() : "unexpected reply " + r.getClass().getSimpleName();
    }

    private CompletionStage<Outcome> error(int option, int type, String message) {
        return done(new Outcome(reply(option, type, utf8(message)), null, false));
    }

    private static CompletionStage<Outcome> done(Outcome o) {
        return CompletableFuture.completedFuture(o);
    }

    static ByteString reply(int option, int type, byte[] data) {
        int len = data == null ? 0 : data.length;
        ByteStringBuilder b = new ByteStringBuilder().putLong(Nbd.OPT_REPLY_MAGIC, Bo.BE).putInt(option, Bo.BE)
                .putInt(type, Bo.BE).putInt(len, Bo.BE);
        if (len > 0) {
            b.putBytes(data);
        }
        return b.result();
    }

    private static byte[] utf8(String s) {
        return utf8(s, Nbd.MAX_STRING_BYTES);
    }

    /** At most {@code max} bytes of UTF-8, cut at whole characters so the result stays valid UTF-8. */
    static byte[] utf8(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        while (b.length > max) {
            s = s.substring(0, s.offsetByCodePoints(s.length(), -1));
            b = s.getBytes(StandardCharsets.UTF_8);
        }
        return b;
    }

    /** Strict UTF-8 without NUL, else null. */
    static String string(byte[] data, int off, int len) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data, off, len)).toString();
            return s.indexOf('\0') >= 0 ? null : s;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Big-endian, short to type. */
    static final class Bo {
        static final java.nio.ByteOrder BE = java.nio.ByteOrder.BIG_ENDIAN;

        private Bo() {
        }
    }
}
