package dionode.loadgen.soak;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.MalformedFrameException;
import dionode.protocol.wire.Wire;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/**
 * One fuzzed connection: connect, send the bytes, read what comes back, and name how it ended:
 * {@code ebadmsg} (refused with EBADMSG and closed), {@code ebadmsg-open} (refused, left open),
 * {@code answered} / {@code answered-closed} (the bytes held requests and they were answered),
 * {@code closed} (closed without a reply), {@code reset}, {@code open} (nothing within
 * {@value #FIRST_WAIT_MS} ms: a half frame the node waits on; we close it), {@code skipped}
 * (would have changed another file, not sent). A failure: the node not accepting, a reply that
 * does not decode, an error message naming an internal class. Confined to the fuzzer's thread.
 */
final class FuzzExchange {
    static final int FIRST_WAIT_MS = 1000;
    private static final int IDLE_MS = 300;
    private static final int CLOSE_WAIT_MS = 2000;
    /** Mutations of the fuzz file allowed below this offset (flipped bits make any number). */
    private static final long MUTATION_LIMIT = 64L << 20;
    /** A qualified class name ({@code a.b.C}) or an exception's or error's simple name. */
    private static final java.util.regex.Pattern INTERNAL =
            java.util.regex.Pattern.compile("\\b[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+\\.[A-Z]\\w*|\\b\\w+(Exception|Error)\\b");

    private final SoakContext ctx;
    private final KryoCodec codec;
    private final FileId target;
    private final String targetName;

    FuzzExchange(SoakContext ctx, KryoCodec codec, FileId target, String targetName) {
        this.ctx = ctx;
        this.codec = codec;
        this.target = target;
        this.targetName = targetName;
    }

    /** Sends {@code bytes} on a new connection (unless harmful to other files) and counts how it ended. */
    void send(String kase, byte[] bytes) {
        if (!harmless(bytes)) {
            ctx.tally().fuzzed(kase, "skipped");
            return;
        }
        ctx.tally().fuzzed(kase, exchange(kase, bytes));
    }

    private String exchange(String kase, byte[] bytes) {
        try (Socket s = new Socket()) {
            try {
                s.connect(new InetSocketAddress(ctx.host(), ctx.port()), 10_000);
            } catch (IOException e) {
                ctx.fail("fuzz " + kase + ": the node does not accept a connection: " + e);
                return "connect-failed";
            }
            s.setSoTimeout(FIRST_WAIT_MS);
            boolean reset = false;
            try {
                OutputStream out = s.getOutputStream();
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                reset = true; // closed by the node before everything was sent
            }
            FrameReader reader = new FrameReader(s.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
            int replies = 0;
            boolean ebadmsg = false;
            boolean eof = false;
            try {
                while (true) {
                    if (!reader.next()) {
                        eof = true;
                        break;
                    }
                    Object m = codec.decodeBody(reader.body(), reader.bodyOffset(), reader.bodyLength());
                    replies++;
                    if (m instanceof Reply.Error e) {
                        ebadmsg |= e.errno() == Errno.EBADMSG;
                        checkUserTerms(ctx, e.message());
                    }
                    s.setSoTimeout(ebadmsg ? CLOSE_WAIT_MS : IDLE_MS);
                }
            } catch (SocketTimeoutException e) {
                // still open
            } catch (EOFException e) {
                eof = true;
            } catch (MalformedFrameException e) {
                ctx.fail("fuzz " + kase + ": the node's reply does not decode: " + e.getMessage());
            } catch (IOException e) {
                reset = true;
            }
            boolean closed = eof || reset;
            if (ebadmsg) {
                return closed ? "ebadmsg" : "ebadmsg-open";
            }
            if (replies > 0) {
                return closed ? "answered-closed" : "answered";
            }
            return eof ? "closed" : reset ? "reset" : "open";
        } catch (IOException e) {
            return "reset";
        }
    }

    /** An error message must speak the user's terms: no class names, no exception names. */
    static void checkUserTerms(SoakContext ctx, String message) {
        if (message != null && INTERNAL.matcher(message).find()) {
            ctx.fail("an error message names an internal class: \"" + message + "\"");
        }
    }

    /**
     * Whether the node, reading these bytes as it does (frame after frame until one is malformed),
     * could only change the fuzz file: every complete frame that decodes is judged.
     */
    boolean harmless(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.remaining() >= Wire.HEADER_BYTES) {
            long declared = Integer.toUnsignedLong(b.getInt(b.position()));
            if (Wire.checkLength(declared, codec.maxPayload()) != null || declared > b.remaining() - Wire.LENGTH_BYTES) {
                return true;
            }
            int body = b.position() + Wire.HEADER_BYTES;
            try {
                if (!allowed(codec.decodeRequest(bytes, body, (int) declared - Wire.ID_BYTES))) {
                    return false;
                }
            } catch (MalformedFrameException e) {
                return true;
            }
            b.position(b.position() + Wire.LENGTH_BYTES + (int) declared);
        }
        return true;
    }

    private boolean allowed(Request r) {
        if (r instanceof Request.Write w) {
            return mine(w.file()) && w.offset() < MUTATION_LIMIT;
        } else if (r instanceof Request.Truncate t) {
            return mine(t.file()) && t.size() < MUTATION_LIMIT;
        } else if (r instanceof Request.Fallocate f) {
            return mine(f.file()) && f.offset() < MUTATION_LIMIT && f.length() <= 1 << 20;
        } else if (r instanceof Request.ZeroRange z) {
            return mine(z.file()) && z.offset() < MUTATION_LIMIT && z.length() <= 1 << 20;
        } else if (r instanceof Request.PunchHole p) {
            return mine(p.file());
        } else if (r instanceof Request.Chmod c) {
            return mine(c.file());
        } else if (r instanceof Request.Create c) {
            return targetName.equals(c.name());
        } else {
            return !(r instanceof Request.Unlink);
        }
    }

    private boolean mine(FileId f) {
        return f == null || f.equals(target);
    }
}
