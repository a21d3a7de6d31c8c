package dionode.node.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT (proto.md "Metadata querying"). The only
 * context served is {@code base:allocation}, on every export. Data: u32 export name length, name,
 * u32 query count, then per query u32 length and the query. Every length is judged against the
 * bytes the option still holds before anything is read: a length that runs past the option, or
 * bytes left over, is NBD_REP_ERR_INVALID (the spec's MUST) and the connection goes on; a name or
 * query longer than the spec's strings is NBD_REP_ERR_TOO_BIG. Queries of other namespaces, and
 * leaf names this server does not know, are ignored, as the spec requires. Either option before
 * structured replies is NBD_REP_ERR_INVALID. A SET replaces the earlier selection even when it
 * fails. The export name is not looked up here: the selection holds only if GO (or EXPORT_NAME)
 * later names the same export, and GO is where an unknown name is refused. Stateless.
 */
final class MetaContexts {
    private static final String BASE_WILDCARD = "base:";

    private MetaContexts() {
    }

    static Handshake.Outcome answer(int option, byte[] data, Negotiation n) {
        boolean set = option == Nbd.OPT_SET_META_CONTEXT;
        Negotiation failed = set ? n.withMetaContext(null, false) : n;
        if (!n.structured()) {
            return refuse(option, Nbd.REP_ERR_INVALID, "negotiate NBD_OPT_STRUCTURED_REPLY first", failed);
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(data);
            String export = string(in, data, "export name");
            if (in.remaining() < 4) {
                throw new Bad(Nbd.REP_ERR_INVALID, "option data ends before the query count");
            }
            long count = Integer.toUnsignedLong(in.getInt());
            boolean base = count == 0 && !set; // LIST without queries: every context there is
            for (long i = 0; i < count; i++) { // each query takes at least 4 bytes: bounded by the option
                String query = string(in, data, "query " + i + " of " + count);
                base |= query.equals(Nbd.META_BASE_ALLOCATION) || !set && query.equals(BASE_WILDCARD);
            }
            if (in.hasRemaining()) {
                throw new Bad(Nbd.REP_ERR_INVALID, in.remaining() + " bytes after the last query");
            }
            ByteStringBuilder b = new ByteStringBuilder();
            if (base) {
                byte[] name = Nbd.META_BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
                b.append(Handshake.reply(option, Nbd.REP_META_CONTEXT, new ByteStringBuilder()
                        .putInt(set ? Negotiation.BASE_ALLOCATION_ID : 0, Handshake.Bo.BE).putBytes(name).result().toArray()));
            }
            b.append(Handshake.reply(option, Nbd.REP_ACK, null));
            return new Handshake.Outcome(b.result(), null, false, set ? n.withMetaContext(export, base) : n);
        } catch (Bad bad) {
            return refuse(option, bad.type, bad.getMessage(), failed);
        }
    }

    /** A u32-length-prefixed string of the option, judged before it is read. */
    private static String string(ByteBuffer in, byte[] data, String what) {
        if (in.remaining() < 4) {
            throw new Bad(Nbd.REP_ERR_INVALID, "option data ends before the length of the " + what);
        }
        long len = Integer.toUnsignedLong(in.getInt());
        if (len > in.remaining()) {
            throw new Bad(Nbd.REP_ERR_INVALID, "the " + what + " (" + len + " bytes) runs past the option");
        }
        if (len > Nbd.MAX_STRING_BYTES) {
            throw new Bad(Nbd.REP_ERR_TOO_BIG, "the " + what + " is longer than " + Nbd.MAX_STRING_BYTES + " bytes");
        }
        String s = Handshake.string(data, in.position(), (int) len);
        if (s == null) {
            throw new Bad(Nbd.REP_ERR_INVALID, "the " + what + " is not UTF-8 without NUL");
        }
        in.position(in.position() + (int) len);
        return s;
    }

    /** Why an option is refused, and with which reply type; no stack trace (it is an answer, not a bug). */
    private static final class Bad extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int type;

        Bad(int type, String message) {
            super(message, null, false, false);
            this.type = type;
        }
    }

    private static Handshake.Outcome refuse(int option, int type, String why, Negotiation n) {
        ByteString reply = Handshake.reply(option, type, why.getBytes(StandardCharsets.UTF_8));
        return new Handshake.Outcome(reply, null, false, n);
    }
}
