package dionode.loadgen.soak;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.KryoCodec;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fuzzed frames: one raw TCP connection after another, each sent one case of {@link FuzzFrames}
 * (random bytes, random bodies, bad lengths, bit-flipped real requests, huge declared string and
 * byte-array lengths, deeply nested lists, a class named on the wire), and how each ended is
 * counted ({@link FuzzExchange}). Between them, on one well-behaved connection, requests with
 * missing or impossible fields and names with unpaired surrogates must be refused with EINVAL
 * (ENAMETOOLONG for a long name) and leave that connection open.
 *
 * <p>Requests are real ones aimed at {@value #TARGET}; a flipped frame that would still decode to
 * a request changing another file (flipped bits can turn one inode number into another whose
 * generation matches) is not sent, so the models of the verified files stay true. Confined to its
 * thread.
 */
final class Fuzzer implements Activity {
    static final String TARGET = "soak-fuzz";
    private static final String[] CASES = {"garbage", "random-body", "bad-length", "bit-flip", "bit-flip", "bit-flip", "huge-string",
        "huge-bytes", "nested-lists", "class-name", "fields"};

    private final KryoCodec codec = new KryoCodec();
    private final FuzzFrames frames = new FuzzFrames(codec);

    @Override
    public String name() {
        return "fuzzer";
    }

    @Override
    public void run(SoakContext ctx) throws Exception {
        SplittableRandom rnd = ctx.random(name());
        try (NodeClient c = ctx.connect()) {
            FileId target = ctx.create(c, TARGET);
            FuzzExchange exchange = new FuzzExchange(ctx, codec, target, TARGET);
            List<Request> real = realRequests(target);
            List<Request> badFields = badFields(target);
            for (long n = 1; ctx.running(); n++) {
                String kase = CASES[rnd.nextInt(CASES.length)];
                if (kase.equals("fields")) {
                    fields(ctx, c, badFields.get(rnd.nextInt(badFields.size())));
                } else {
                    exchange.send(kase, bytes(kase, rnd, real, target));
                }
                if (n % 256 == 0) {
                    Answer.await(c.truncate(target, 0), ctx.replyTimeout()); // what flipped writes left
                }
                Thread.sleep(5 + rnd.nextInt(20));
            }
            if (!c.isOpen()) {
                ctx.fail(name() + ": the node closed the well-behaved connection: " + c.closeCause());
            }
        }
    }

    private byte[] bytes(String kase, SplittableRandom rnd, List<Request> real, FileId target) {
        return switch (kase) {
            case "garbage" -> FuzzFrames.garbage(rnd);
            case "random-body" -> FuzzFrames.randomBody(rnd);
            case "bad-length" -> FuzzFrames.badLength(rnd);
            case "bit-flip" -> FuzzFrames.flipped(codec.encodeFrame(rnd.nextLong(1, 1 << 20), real.get(rnd.nextInt(real.size()))), rnd);
            case "huge-string" -> frames.lookupDeclaring(rnd.nextBoolean() ? 1L << 30 : Integer.MAX_VALUE - 1L);
            case "huge-bytes" -> frames.writeDeclaringHugeData(target);
            case "nested-lists" -> frames.nestedLists(1000 + rnd.nextInt(100_000));
            case "class-name" -> FuzzFrames.classNamed(rnd.nextBoolean() ? "java.util.HashMap" : Request.Stat.class.getName());
            default -> throw new IllegalArgumentException(kase);
        };
    }

    private void fields(SoakContext ctx, NodeClient c, Request bad) {
        Answer<Reply> a = Answer.await(c.send(bad), ctx.replyTimeout());
        Errno want = bad instanceof Request.Create cr && cr.name() != null && cr.name().length() > 128 ? Errno.ENAMETOOLONG : Errno.EINVAL;
        Errno got = a.ok() && a.value() instanceof Reply.Error e ? e.errno() : null;
        ctx.tally().fuzzed("fields", a.ok() ? got == null ? "accepted" : got.name() : a.outcome());
        if (got != want) {
            ctx.fail("a request with a bad field, " + describe(bad) + ", was answered " + (a.ok() ? a.value() : a) + ", not " + want);
        } else if (a.ok()) {
            FuzzExchange.checkUserTerms(ctx, ((Reply.Error) a.value()).message());
        }
    }

    /** Requests at the fuzz file (and node-wide reads) whose encodings get bits flipped. */
    private static List<Request> realRequests(FileId f) {
        return List.of(new Request.Lookup(TARGET), new Request.Stat(f), new Request.Read(f, 4096, 8192, 0),
                new Request.Write(f, 8192, new byte[4096], 0), new Request.Write(f, 512, new byte[1536], 2),
                new Request.Fiemap(f, 0, 0), new Request.GetStats(), new Request.ListFiles(), new Request.Fsync(f),
                new Request.Truncate(f, 65536), new Request.Create(TARGET, null, 0644, false), new Request.Chmod(f, 0640),
                new Request.PunchHole(f, 0, 4096));
    }

    /** Missing or impossible fields and names that are not names: EINVAL (ENAMETOOLONG past 128 bytes). */
    private static List<Request> badFields(FileId f) {
        return List.of(new Request.Create("soak-\uD800", null, 0644, true), new Request.Lookup("\uDC00soak"),
                new Request.Unlink("soak\uD83D"), new Request.Create("\uDFFF\uD800", null, 0644, false),
                new Request.Create(".", null, 0644, true), new Request.Lookup("a/b"), new Request.Create("x".repeat(200), null, 0644, true),
                new Request.Write(null, 0, new byte[512], 0), new Request.Write(f, 0, null, 0), new Request.Read(f, -512, 512, 0),
                new Request.Read(f, 0, -1, 0), new Request.Write(f, 0, new byte[512], 0x100), new Request.Lookup(null),
                new Request.Create(null, null, 0644, true), new Request.Chmod(f, 0100644), new Request.Truncate(f, -1),
                new Request.Fallocate(null, 0, 4096, false), new Request.Stat(null));
    }

    /** A request for a failure line: its name escaped (an unpaired surrogate does not print). */
    private static String describe(Request r) {
        StringBuilder s = new StringBuilder();
        for (char ch : r.toString().toCharArray()) {
            s.append(Character.isSurrogate(ch) || ch < 0x20 ? String.format("\\u%04X", (int) ch) : String.valueOf(ch));
        }
        return s.length() > 160 ? s.substring(0, 160) + "..." : s.toString();
    }
}
