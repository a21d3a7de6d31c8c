package dionode.node.crash;

import static dionode.node.crash.Fixture.B;
import static dionode.node.crash.Sectors.SECTOR;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;

/**
 * The writers of the crash loop, run inside the child JVM until it is killed. Each <em>stream</em>
 * is one thread issuing operations one at a time on one file (or, for the shared file, on its own
 * 64 KiB stripes of it, so two streams write one file concurrently under the shared lock):
 * aligned and 512-unaligned writes, extending writes, durable writes, fsync, and on private files
 * truncate, punch, zero range and fallocate now and then. Every operation is logged before it is
 * sent and every success after its reply, one flushed line each, so the parent knows after the
 * SIGKILL what was acknowledged and what was durable:
 *
 * <pre>
 * S stream file ino name kind gen  a stream and its file (kind: own | stripe-K-of-N), its generation
 * READY iteration                  setup durable: old files unlinked, new ones created and fsync'd
 * O stream seq op a b              operation seq issued: W(rite) D(urable write) T(runcate) P(unch)
 *                                  Z(ero range) F(allocate) K(fallocate keep size) S(fsync)
 * A stream seq                     operation seq acknowledged
 * E stream seq errno               operation seq failed; the stream stops
 * </pre>
 */
public final class CrashWorkload {
    /** Private files per iteration. */
    static final int OWN_FILES = 4;
    /** Streams sharing the striped file. */
    static final int STRIPED_STREAMS = 2;
    static final long MAX_FILE = 4L << 20;
    static final long STRIPE = 64 << 10;

    private final int port;
    private final long seed;
    private final int iteration;
    private final PrintStream out;
    private volatile boolean stopped;

    public CrashWorkload(int port, long seed, int iteration, PrintStream out) {
        this.port = port;
        this.seed = seed;
        this.iteration = iteration;
        this.out = out;
    }

    /** Makes every stream stop after its current operation (in-process use); {@link #run} then returns. */
    public void stop() {
        stopped = true;
    }

    /** Global file id: unique across iterations, so another iteration's data is recognized. */
    static int fileId(int iteration, int k) {
        return iteration * 100 + k;
    }

    private void log(String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    public void run() throws Exception {
        NodeClient setup = NodeClient.connect("127.0.0.1", port);
        for (Reply.DirEntry e : Fixture.join(setup.list())) {
            Fixture.join(setup.unlink(e.name()));
        }
        List<Thread> threads = new ArrayList<>();
        FileId lastIno = null;
        int stream = 0;
        for (int k = 0; k < OWN_FILES; k++) {
            String name = "i" + iteration + "-f" + k;
            FileId ino = Fixture.join(setup.create(name, null, 0644, true)).file();
            lastIno = ino;
            log("S " + stream + " " + fileId(iteration, k) + " " + ino.ino() + " " + name + " own " + ino.generation());
            threads.add(thread(stream++, fileId(iteration, k), ino, -1));
        }
        String shared = "i" + iteration + "-striped";
        FileId sino = Fixture.join(setup.create(shared, null, 0644, true)).file();
        Fixture.join(setup.truncate(sino, MAX_FILE));
        for (int s = 0; s < STRIPED_STREAMS; s++) {
            log("S " + stream + " " + fileId(iteration, OWN_FILES) + " " + sino.ino() + " " + shared + " stripe-" + s + "-of-"
                    + STRIPED_STREAMS + " " + sino.generation());
            threads.add(thread(stream++, fileId(iteration, OWN_FILES), sino, s));
        }
        Fixture.join(setup.fsync(lastIno));
        log("READY " + iteration);
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        setup.close();
    }

    private Thread thread(int stream, int file, FileId ino, int stripe) {
        SplittableRandom rnd = new SplittableRandom(seed * 1000 + stream);
        Thread t = new Thread(() -> {
            try (NodeClient c = NodeClient.connect("127.0.0.1", port)) {
                new Stream(c, stream, file, ino, stripe, rnd).loop();
            } catch (Exception e) {
                log("X " + stream + " " + e);
            }
        }, "stream-" + stream);
        t.setDaemon(true);
        return t;
    }

    private final class Stream {
        final NodeClient c;
        final int stream;
        final int file;
        final FileId ino;
        final int stripe;
        final SplittableRandom rnd;
        long size;
        long seq;

        Stream(NodeClient c, int stream, int file, FileId ino, int stripe, SplittableRandom rnd) {
            this.c = c;
            this.stream = stream;
            this.file = file;
            this.ino = ino;
            this.stripe = stripe;
            this.rnd = rnd;
            this.size = stripe >= 0 ? MAX_FILE : 0;
        }

        void loop() {
            while (!stopped) {
                seq++;
                int r = rnd.nextInt(100);
                if (stripe >= 0) {
                    if (r < 12) {
                        op("S", 0, 0);
                    } else {
                        stripedWrite(r < 25);
                    }
                    continue;
                }
                if (r < 10) {
                    op("S", 0, 0);
                } else if (r < 15) {
                    long s = sectorAt(MAX_FILE);
                    op("T", s, 0);
                } else if (r < 20) {
                    long off = sectorAt(MAX_FILE - B);
                    op("P", off, sectors(64 * 1024));
                } else if (r < 25) {
                    long off = sectorAt(MAX_FILE - B);
                    op("Z", off, sectors(64 * 1024));
                } else if (r < 30) {
                    long off = rnd.nextLong(MAX_FILE / B - 16) * B;
                    op(rnd.nextBoolean() ? "F" : "K", off, (1 + rnd.nextInt(16)) * (long) B);
                } else {
                    boolean durable = r < 40;
                    long off;
                    if (rnd.nextInt(4) == 0) {
                        off = Math.min(size, MAX_FILE - B); // extending
                        off &= ~(SECTOR - 1L);
                    } else {
                        off = rnd.nextBoolean() ? rnd.nextLong(MAX_FILE / B) * B : sectorAt(MAX_FILE - SECTOR);
                    }
                    long len = rnd.nextBoolean() ? (1 + rnd.nextInt(16)) * (long) B : sectors(48 * 1024);
                    len = Math.min(len, MAX_FILE - off);
                    op(durable ? "D" : "W", off, len);
                }
            }
        }

        void stripedWrite(boolean durable) {
            long stripes = MAX_FILE / STRIPE / STRIPED_STREAMS;
            long base = (rnd.nextLong(stripes) * STRIPED_STREAMS + stripe) * STRIPE;
            long inner = rnd.nextBoolean() ? rnd.nextLong(STRIPE / B) * B : rnd.nextLong(STRIPE / SECTOR) * SECTOR;
            long len = Math.min(STRIPE - inner, rnd.nextBoolean() ? (1 + rnd.nextInt(8)) * (long) B : sectors(16 * 1024));
            op(durable ? "D" : "W", base + inner, len);
        }

        long sectorAt(long max) {
            return rnd.nextLong(max / SECTOR) * SECTOR;
        }

        long sectors(int maxBytes) {
            return (1 + rnd.nextInt(maxBytes / SECTOR)) * (long) SECTOR;
        }

        void op(String kind, long a, long b) {
            log("O " + stream + " " + seq + " " + kind + " " + a + " " + b);
            try {
                switch (kind) {
                    case "W", "D" -> {
                        byte[] data = Sectors.payload(iteration, file, stream, a, (int) b, seq);
                        Fixture.join(c.write(ino, a, data, kind.equals("D") ? IoFlags.DURABLE : 0));
                        size = Math.max(size, a + b);
                    }
                    case "S" -> Fixture.join(c.fsync(ino));
                    case "T" -> {
                        Fixture.join(c.truncate(ino, a));
                        size = a;
                    }
                    case "P" -> Fixture.join(c.punchHole(ino, a, b));
                    case "Z" -> {
                        Fixture.join(c.zeroRange(ino, a, b, true));
                        size = Math.max(size, a + b);
                    }
                    case "F" -> {
                        Fixture.join(c.fallocate(ino, a, b, false));
                        size = Math.max(size, a + b);
                    }
                    case "K" -> Fixture.join(c.fallocate(ino, a, b, true));
                    default -> throw new IllegalArgumentException(kind);
                }
            } catch (CompletionException e) {
                String errno = e.getCause() instanceof NodeException ne ? ne.errno().name() : String.valueOf(e.getCause());
                log("E " + stream + " " + seq + " " + errno);
                throw e;
            }
            log("A " + stream + " " + seq);
        }
    }
}
