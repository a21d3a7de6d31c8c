package dionode.loadgen.soak;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.FrameReader;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.MalformedFrameException;
import dionode.protocol.wire.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.SplittableRandom;

/**
 * Peers that are slow on purpose, each on its own connection:
 * <ul>
 *   <li><b>stalled half frames</b>: a header declaring up to 1 MiB and part of the body, then
 *       silence, held either less than the node's frame timeout (we close it) or past it, when the
 *       node must close it (with EBADMSG) within the timeout and a margin;
 *   <li><b>unread replies</b>: {@value #UNREAD_READS} reads of 8 MiB of {@value #READS_FILE}
 *       pipelined, the replies left unread for a while, then every one must arrive, whole.
 * </ul>
 * One instance per thread: {@code stalled} or not picks the kind. Confined to its thread.
 */
final class SlowPeers implements Activity {
    static final String READS_FILE = "soak-reads";
    static final int UNREAD_READS = 48;
    private static final int READ_BYTES = 8 << 20;
    private static final long CLOSE_MARGIN_MILLIS = 15_000;

    private final boolean stalled;
    private final int index;
    private final KryoCodec codec = new KryoCodec();

    SlowPeers(boolean stalled, int index) {
        this.stalled = stalled;
        this.index = index;
    }

    @Override
    public String name() {
        return (stalled ? "stalled-frames-" : "unread-replies-") + index;
    }

    @Override
    public void run(SoakContext ctx) throws Exception {
        SplittableRandom rnd = ctx.random(name());
        if (stalled) {
            while (ctx.running()) {
                stall(ctx, rnd);
                ctx.pause(rnd.nextInt(2000));
            }
            return;
        }
        FileId file;
        try (var c = ctx.connect()) {
            file = ctx.create(c, READS_FILE);
            ctx.must(c.truncate(file, READ_BYTES), "truncate " + READS_FILE);
        }
        ctx.models().put(READS_FILE, new FileModel(READS_FILE, ctx.nextKey(), file, READ_BYTES, READ_BYTES, 0));
        while (ctx.running()) {
            unread(ctx, file, Math.min(15_000, (long) (ctx.secondsLeft() * 500)));
            ctx.pause(20_000);
        }
    }

    private void stall(SoakContext ctx, SplittableRandom rnd) throws IOException {
        long timeout = ctx.frameTimeout().toMillis();
        boolean past = rnd.nextBoolean();
        long hold = past ? timeout + CLOSE_MARGIN_MILLIS : 500 + rnd.nextLong(Math.max(1, timeout * 8 / 10 - 500));
        int declared = 64 + rnd.nextInt(1 << 20);
        int sent = rnd.nextInt(Math.min(declared, 64 << 10));
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ctx.host(), ctx.port()), 10_000);
            s.getOutputStream().write(FuzzFrames.halfFrame(rnd.nextLong(1, 1 << 20), declared, sent, rnd));
            s.setSoTimeout((int) hold);
            long t0 = System.nanoTime();
            String ending;
            try {
                FrameReader r = new FrameReader(s.getInputStream(), Wire.DEFAULT_MAX_PAYLOAD);
                boolean replied = r.next();
                Object m = replied ? codec.decodeBody(r.body(), r.bodyOffset(), r.bodyLength()) : null;
                boolean ebadmsg = m instanceof Reply.Error e && e.errno() == Errno.EBADMSG;
                if (m instanceof Reply.Error e) {
                    FuzzExchange.checkUserTerms(ctx, e.message());
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                ending = (ebadmsg ? "ebadmsg" : replied ? "answered" : "closed") + (ms >= timeout * 9 / 10 ? "-after-timeout" : "-early");
            } catch (SocketTimeoutException e) {
                ending = past ? "open-past-timeout" : "closed-by-us";
                if (past) {
                    ctx.fail("a half frame (" + sent + " of " + declared + " bytes) was still open " + hold
                            + " ms later; the node's frame timeout is " + timeout + " ms");
                }
            } catch (MalformedFrameException e) {
                ctx.fail("stalled frame: the node's reply does not decode: " + e.getMessage());
                ending = "bad-reply";
            } catch (IOException e) {
                ending = "reset";
            }
            ctx.tally().fuzzed("stalled-half-frame", ending);
        }
    }

    /** Pipelines the reads, reads nothing for {@code pauseMillis}, then every reply must come, each whole. */
    private void unread(SoakContext ctx, FileId file, long pauseMillis) throws IOException, InterruptedException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ctx.host(), ctx.port()), 10_000);
            for (int i = 1; i <= UNREAD_READS; i++) {
                s.getOutputStream().write(codec.encodeFrame(i, new Request.Read(file, 0, READ_BYTES, 0)));
            }
            s.getOutputStream().flush();
            Thread.sleep(Math.max(0, pauseMillis));
            s.setSoTimeout((int) ctx.replyTimeout().toMillis());
            InputStream in = s.getInputStream();
            FrameReader r = new FrameReader(in, Wire.DEFAULT_MAX_PAYLOAD);
            int whole = 0;
            String ending = "all-answered";
            try {
                for (int i = 0; i < UNREAD_READS; i++) {
                    if (!r.next()) {
                        ending = "closed-after-" + whole;
                        break;
                    }
                    Object m = codec.decodeBody(r.body(), r.bodyOffset(), r.bodyLength());
                    if (m instanceof Reply.Data d && d.data().length == READ_BYTES) {
                        whole++;
                    } else {
                        ending = "wrong-reply";
                        ctx.fail("pipelined 8 MiB read answered " + m);
                        break;
                    }
                }
            } catch (SocketTimeoutException e) {
                ending = "stuck-after-" + whole;
            } catch (MalformedFrameException e) {
                ending = "bad-reply";
            }
            ctx.tally().fuzzed("unread-replies", ending);
            ctx.tally().events("unread_replies_answered", whole);
            if (whole != UNREAD_READS) {
                ctx.fail(UNREAD_READS + " pipelined 8 MiB reads left unread for " + pauseMillis + " ms: " + whole + " answered whole ("
                        + ending + ")");
            }
        }
    }
}
