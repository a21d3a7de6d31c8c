package dionode.loadgen.soak;

import dionode.loadgen.proc.ProcStatus;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Once a second: the node's resident set (VmRSS of {@code /proc/PID/status}) and its maximum,
 * whether the process is alive, and whether it answers {@code stats} within the reply bound on a
 * connection of its own. A node that exits or stops answering fails the soak and ends its
 * traffic. Runs on its own thread from {@link #start()} to {@link #stop()}; the figures may be
 * read from any thread once it stopped (and while it runs: they are volatile or synchronized).
 */
final class Sampler {
    private final SoakContext ctx;
    private final long pid;
    private final BooleanSupplier alive;
    private final Thread thread;
    private final List<Long> minuteMaxKib = new ArrayList<>();
    private volatile boolean stopped;
    private volatile long maxRssKib = -1;
    private volatile long maxRssAtSecond;
    private volatile long maxWireBytes;
    private volatile long minFreeBlocks = Long.MAX_VALUE;
    private volatile long samples;
    private volatile boolean died;

    /** {@code pid} below 1: no RSS (a remote node); {@code alive} tells whether the node's process still runs. */
    Sampler(SoakContext ctx, long pid, BooleanSupplier alive) {
        this.ctx = ctx;
        this.pid = pid;
        this.alive = alive;
        this.thread = new Thread(this::loop, "soak-sampler");
        this.thread.setDaemon(true);
    }

    Sampler start() {
        thread.start();
        return this;
    }

    void stop() throws InterruptedException {
        stopped = true;
        thread.interrupt();
        thread.join(ctx.replyTimeout().toMillis() + 5_000);
    }

    private void loop() {
        long t0 = System.nanoTime();
        long nextProgress = 60;
        try (NodeClient c = ctx.connect()) {
            while (!stopped) {
                long second = (System.nanoTime() - t0) / 1_000_000_000L;
                if (!alive.getAsBoolean()) {
                    died = true;
                    ctx.fail("the node's process exited during the soak, at " + second + " s");
                    ctx.stop();
                    return;
                }
                sampleRss(second);
                if (second >= nextProgress) {
                    progress(second);
                    nextProgress += 60;
                }
                Answer<Map<String, Long>> st = Answer.await(c.stats(), ctx.replyTimeout());
                samples++;
                if (!st.ok()) {
                    ctx.fail("the node did not answer stats at " + second + " s: " + st);
                    if (st.lost()) {
                        return;
                    }
                } else {
                    maxWireBytes = Math.max(maxWireBytes, st.value().getOrDefault("wire_bytes", 0L));
                    minFreeBlocks = Math.min(minFreeBlocks, st.value().getOrDefault("free_blocks", Long.MAX_VALUE));
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        } catch (IOException e) {
            ctx.fail("the sampler could not connect to the node: " + e);
        }
    }

    /** A line a minute on stderr, so a long soak shows it is alive (stdout carries only the summary). */
    private void progress(long second) {
        System.err.printf(java.util.Locale.ROOT, "soak: %d s, node RSS %s (max %s), min free blocks %d, failures %d%n", second,
                mib(ProcStatus.vmRssKib(pid)), mib(maxRssKib), minFreeBlocks(), ctx.tally().failureCount());
    }

    private static String mib(long kib) {
        return kib < 0 ? "-" : (kib >> 10) + " MiB";
    }

    private synchronized void sampleRss(long second) {
        long kib = ProcStatus.vmRssKib(pid);
        if (kib < 0) {
            return;
        }
        if (kib > maxRssKib) {
            maxRssKib = kib;
            maxRssAtSecond = second;
        }
        int minute = (int) (second / 60);
        while (minuteMaxKib.size() <= minute) {
            minuteMaxKib.add(0L);
        }
        minuteMaxKib.set(minute, Math.max(minuteMaxKib.get(minute), kib));
    }

    long maxRssKib() {
        return maxRssKib;
    }

    long maxRssAtSecond() {
        return maxRssAtSecond;
    }

    synchronized List<Long> minuteMaxKib() {
        return List.copyOf(minuteMaxKib);
    }

    long maxWireBytes() {
        return maxWireBytes;
    }

    long minFreeBlocks() {
        return minFreeBlocks == Long.MAX_VALUE ? -1 : minFreeBlocks;
    }

    long samples() {
        return samples;
    }

    boolean died() {
        return died;
    }
}
