package dionode.node.crash;

import static dionode.node.crash.Fixture.B;
import static dionode.node.crash.Fixture.join;

import dionode.node.journal.JournalStats;
import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * What the metadata journal costs the seed's Test 1 (aligned 8 KiB direct writes, each spanning a
 * written and an unwritten block, every thread sequentially through its own region of one file,
 * the file rebuilt between runs), measured in one run against one in-process node on a device file
 * under target/test-devices:
 *
 * <ul>
 * <li>{@code overwrite}: the same writes over a region written beforehand: no metadata per write,
 * no journal handle (the baseline "without journaling" cannot be run otherwise: every conversion
 * is a journaled metadata change);
 * <li>{@code test1}: the seed's layout: each write converts one unwritten block through a journal
 * handle; acknowledged without waiting for a commit (commits come from the interval and the
 * size threshold: group commit batches thousands of conversions per transaction);
 * <li>{@code test1-durable}: the same with the DURABLE flag: every write waits for the commit of
 * its conversion, and concurrent writers share commits (group commit).
 * </ul>
 *
 * Prints IOPS (median of the runs) and the journal statistics of each mode. Not a test: run with
 * {@code java -cp <test classpath> dionode.node.crash.WriteIopsBench [writers] [regionMiB] [runs]}.
 */
public final class WriteIopsBench {
    private WriteIopsBench() {
    }

    record Result(String mode, double iops, long writes, JournalStats delta, Map<String, Long> counters) {
    }

    public static void main(String[] args) throws Exception {
        int writers = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        int regionMiB = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        long region = regionMiB * Fixture.MIB;
        long size = Math.max(256 * Fixture.MIB, 3L * writers * region + 64 * Fixture.MIB);
        Path device = Fixture.newDevice("bench");
        try (NodeServer node = Fixture.start(Fixture.config(device, size, Duration.ofSeconds(1)), Fixture.JNA)) {
            System.out.printf("device %s, %d MiB; %d writers x %d MiB regions, 8 KiB aligned writes, %d runs per mode%n",
                    device, size >> 20, writers, regionMiB, runs);
            List<String> modes = List.of("overwrite", "test1", "test1-durable", "overwrite", "test1");
            List<List<Result>> all = new ArrayList<>();
            for (String mode : List.of("overwrite", "test1", "test1-durable")) {
                all.add(new ArrayList<>());
            }
            for (int r = 0; r < runs; r++) {
                for (int m = 0; m < 3; m++) {
                    all.get(m).add(run(node, modes.get(m), writers, region, r));
                }
            }
            for (List<Result> rs : all) {
                double[] iops = rs.stream().mapToDouble(Result::iops).sorted().toArray();
                Result last = rs.get(rs.size() - 1);
                JournalStats d = last.delta();
                System.out.printf("%-14s IOPS median %8.0f  (runs %s)%n", last.mode(), iops[iops.length / 2], Arrays.toString(
                        Arrays.stream(iops).mapToLong(Math::round).toArray()));
                System.out.printf("               last run: %d writes, journal: %d commits, %d flushes, %d blocks logged"
                        + " (%.1f per commit, max %d), %d handles, commit() calls %d in %d batches (max %d callers);"
                        + " write_shared %d write_exclusive %d converted_blocks %d%n",
                        last.writes(), d.commits(), d.flushes(), d.blocksLogged(),
                        d.commits() == 0 ? 0.0 : (double) d.blocksLogged() / d.commits(), d.maxTxnBlocks(), d.handles(),
                        d.commitCalls(), d.commitBatches(), d.maxBatch(), last.counters().getOrDefault("write_shared", 0L),
                        last.counters().getOrDefault("write_exclusive", 0L),
                        last.counters().getOrDefault("converted_blocks", 0L));
            }
        } finally {
            Fixture.deleteQuietly(device);
        }
    }

    private static Result run(NodeServer node, String mode, int writers, long region, int runNo) throws Exception {
        String name = "bench-" + mode + "-" + runNo;
        FileId ino;
        try (NodeClient c = Fixture.client(node)) {
            ino = join(c.create(name, null, 0644, true)).file();
            long total = writers * region;
            if (mode.startsWith("test1")) {
                // [written][unwritten] alternating 4 KiB blocks: every 8 KiB write spans one of each
                join(c.fallocate(ino, 0, total, false));
                prepare(c, ino, total, 2L * B, B);
            } else {
                prepare(c, ino, total, 64L * B, 64 * B);
            }
            join(c.fsync(ino));
        }
        int flags = mode.equals("test1-durable") ? IoFlags.DURABLE : 0;
        JournalStats before = node.volume().journal().stats();
        Map<String, Long> cBefore;
        try (NodeClient c = Fixture.client(node)) {
            cBefore = join(c.stats());
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        long[] done = new long[writers];
        Throwable[] failure = new Throwable[1];
        for (int w = 0; w < writers; w++) {
            int me = w;
            Thread t = new Thread(() -> {
                try (NodeClient c = Fixture.client(node)) {
                    byte[] buf = new byte[2 * B];
                    start.await();
                    for (long off = me * region; off < (me + 1) * region; off += 2 * B) {
                        c.write(ino, off, buf, flags).toCompletableFuture().join();
                        done[me]++;
                    }
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            t.start();
            ts.add(t);
        }
        long t0 = System.nanoTime();
        start.countDown();
        for (Thread t : ts) {
            t.join();
        }
        long t1 = System.nanoTime();
        if (failure[0] != null) {
            throw new AssertionError(failure[0]);
        }
        JournalStats after = node.volume().journal().stats();
        Map<String, Long> cAfter;
        try (NodeClient c = Fixture.client(node)) {
            cAfter = join(c.stats());
            join(c.unlink(name));
            join(c.fsync(join(c.create("sync-" + mode + runNo, null, 0644, true)).file()));
        }
        long writes = Arrays.stream(done).sum();
        Map<String, Long> counters = new java.util.TreeMap<>();
        cAfter.forEach((k, v) -> counters.put(k, v - cBefore.getOrDefault(k, 0L)));
        return new Result(mode, writes / ((t1 - t0) / 1e9), writes, delta(before, after), counters);
    }

    /** Writes {@code len} bytes every {@code stride} bytes over {@code [0, total)}, 32 in flight. */
    private static void prepare(NodeClient c, FileId ino, long total, long stride, int len) {
        byte[] buf = new byte[len];
        List<java.util.concurrent.CompletableFuture<Long>> fs = new ArrayList<>();
        for (long off = 0; off < total; off += stride) {
            fs.add(c.write(ino, off, buf, 0).toCompletableFuture());
            if (fs.size() >= 32) {
                fs.forEach(java.util.concurrent.CompletableFuture::join);
                fs.clear();
            }
        }
        fs.forEach(java.util.concurrent.CompletableFuture::join);
    }

    private static JournalStats delta(JournalStats a, JournalStats b) {
        return new JournalStats(b.commits() - a.commits(), b.emptyCommits() - a.emptyCommits(),
                b.blocksLogged() - a.blocksLogged(), b.logBlocksWritten() - a.logBlocksWritten(), b.flushes() - a.flushes(),
                b.checkpoints() - a.checkpoints(), b.blocksCheckpointed() - a.blocksCheckpointed(), b.handles() - a.handles(),
                b.handlesRefused() - a.handlesRefused(), 0, b.maxTxnBlocks(), b.commitCalls() - a.commitCalls(),
                b.commitBatches() - a.commitBatches(), 0, b.maxBatch(), b.durableTid(), b.aborted(),
                b.handleWaits() - a.handleWaits());
    }
}
