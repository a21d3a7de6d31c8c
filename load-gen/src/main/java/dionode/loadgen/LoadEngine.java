package dionode.loadgen;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives N jobs against one file of a node. Each job is one thread with its own connection
 * ({@link NodeClient}) and issues requests in one of three modes:
 * <ul>
 *   <li><b>sync</b> ({@code iodepth 1}, closed loop): one request in flight, the next sent when the
 *       reply arrives, like fio's psync. Latency = reply time - send time.
 *   <li><b>async</b> ({@code iodepth N > 1}, closed loop): N requests in flight, flagged
 *       {@link IoFlags#ASYNC} (io_uring/libaio semantics at the node) unless told otherwise.
 *   <li><b>open loop</b> ({@code rates}): requests are sent on a fixed schedule whether or not
 *       earlier ones finished; latency counts from the scheduled time, so time spent blocked behind a
 *       full connection (back-pressure) is counted rather than hidden (no coordinated omission).
 * </ul>
 * A request sent with NOWAIT that the node refuses with {@code EAGAIN} is counted and, unless
 * {@code retryEagain} is off, sent again without NOWAIT; its latency covers both.
 *
 * <p>One engine runs once. Thread-safe counters may be read while it runs ({@link #snapshot()}).
 */
public final class LoadEngine {
    /** One open-loop phase: {@code rate} requests per second over all jobs for {@code nanos}. */
    public record Phase(double rate, long nanos) {
        public Phase {
            if (rate < 0 || nanos <= 0) {
                throw new IllegalArgumentException("a phase needs a rate >= 0 and a positive duration");
            }
        }
    }

    /**
     * What to run. {@code phases} null or empty = closed loop for {@code durationNanos}; otherwise open
     * loop, phase after phase. {@code maxLagNanos}: an open-loop request that could not be sent within
     * this long after its scheduled time is dropped and counted ({@link Long#MAX_VALUE}: never).
     * {@code buffered}: every request, read or write, carries {@link IoFlags#BUFFERED} (the node's
     * buffered path, which has no sector alignment rule).
     */
    public record Spec(FileId file, int jobs, int iodepth, boolean asyncFlag, boolean buffered, long durationNanos, Phase[] phases,
            long maxLagNanos, int bytes, int readPct, int nowaitPct, boolean retryEagain, int maxInFlight,
            IntFunction<OffsetSource> offsets) {
        public Spec {
            if (jobs < 1 || iodepth < 1 || bytes < 1 || durationNanos <= 0 || maxLagNanos <= 0) {
                throw new IllegalArgumentException("jobs, iodepth, bytes, duration and lag must be positive");
            }
            if (readPct < 0 || readPct > 100 || nowaitPct < 0 || nowaitPct > 100) {
                throw new IllegalArgumentException("percentages must be within 0..100");
            }
        }

        /** This load, closed loop, for {@code nanos}: a warm-up before it. */
        public Spec closedLoopFor(long nanos) {
            return new Spec(file, jobs, iodepth, asyncFlag, buffered, nanos, null, Long.MAX_VALUE, bytes, readPct, nowaitPct,
                    retryEagain, maxInFlight, offsets);
        }

        /** A closed-loop spec of direct I/O. */
        public static Spec closed(FileId file, int jobs, int iodepth, boolean asyncFlag, long durationNanos, int bytes, int readPct,
                int nowaitPct, boolean retryEagain, int maxInFlight, IntFunction<OffsetSource> offsets) {
            return new Spec(file, jobs, iodepth, asyncFlag, false, durationNanos, null, Long.MAX_VALUE, bytes, readPct, nowaitPct,
                    retryEagain, maxInFlight, offsets);
        }

        boolean openLoop() {
            return phases != null && phases.length > 0;
        }

        int phaseCount() {
            return openLoop() ? phases.length : 1;
        }

        /** The phase a request scheduled {@code sinceStart} after the start belongs to. */
        int phaseAt(long sinceStart) {
            if (!openLoop()) {
                return 0;
            }
            long end = 0;
            for (int i = 0; i < phases.length; i++) {
                end += phases[i].nanos();
                if (sinceStart < end) {
                    return i;
                }
            }
            return phases.length - 1;
        }
    }

    /**
     * What a caller measures over exactly the measured run: {@code begin} runs once every job is
     * connected, just before they start (and before the start time the IOPS count from); {@code end}
     * once the last job ended and its replies drained, before the connections close (so the node's
     * threads serving them are still there to be measured) and before the job threads exit (so are
     * load-gen's own). Both on the thread calling {@link #run}.
     */
    public record Bracket(Runnable begin, Runnable end) {
        public static final Bracket NONE = new Bracket(() -> { }, () -> { });
    }

    /** Counters of a run, or of a moment of it. */
    public record Counts(long sent, long ok, long errors, long eagain, long bytes, long inFlight, long dropped) {
    }

    /** The outcome of a run. */
    public record Result(long ios, long errors, long eagain, long bytes, long maxJobRuntimeNanos, long wallNanos,
            int exhaustedJobs, Histogram latencyNanos, Histogram[] phaseLatencyNanos, long[] phaseOk, String firstError,
            long unfinished, Histogram refusedLatencyNanos, long dropped) {
        /** Completed requests per second over the longest job's runtime (fio's group_reporting IOPS). */
        public double iops() {
            return maxJobRuntimeNanos <= 0 ? 0 : ios * 1e9 / maxJobRuntimeNanos;
        }
    }

    private final Spec spec;
    private final Bracket bracket;
    private final Recorder all = new Recorder(3);
    private final Recorder timeline = new Recorder(3);
    /** Time to an EAGAIN answer of a NOWAIT request that is not retried (how fast "fail fast" is). */
    private final Recorder refused = new Recorder(3);
    private final Recorder[] phase;
    private final LongAdder[] phaseOk;
    private final LongAdder sent = new LongAdder();
    private final LongAdder ok = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder eagain = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final AtomicLong lastCompletion = new AtomicLong();
    private volatile long startNanos;

    public LoadEngine(Spec spec) {
        this(spec, Bracket.NONE);
    }

    public LoadEngine(Spec spec, Bracket bracket) {
        this.spec = spec;
        this.bracket = bracket;
        this.phase = new Recorder[spec.phaseCount()];
        this.phaseOk = new LongAdder[spec.phaseCount()];
        for (int i = 0; i < phase.length; i++) {
            phase[i] = new Recorder(3);
            phaseOk[i] = new LongAdder();
        }
    }

    /** Counters so far. */
    public Counts snapshot() {
        long s = sent.sum();
        long o = ok.sum();
        long e = errors.sum();
        return new Counts(s, o, e, eagain.sum(), bytes.sum(), s - o - e - eagain.sum(), dropped.sum());
    }

    /** Latencies (ns) of requests completed since the previous call: for a per-second timeline. */
    public Histogram intervalLatency() {
        return timeline.getIntervalHistogram();
    }

    /** When the run started ({@link System#nanoTime()}), 0 before. */
    public long startNanos() {
        return startNanos;
    }

    /** Connects the jobs, runs them and waits for every reply (up to {@code drainNanos} after the end). */
    public Result run(Target node, long drainNanos) throws IOException, InterruptedException {
        int jobs = spec.jobs();
        NodeClient[] clients = new NodeClient[jobs];
        ClientOptions opts = ClientOptions.defaults().withMaxInFlight(Math.max(spec.maxInFlight(), 2 * spec.iodepth() + 2));
        ExecutorService retries = Executors.newFixedThreadPool(Math.max(1, Math.min(jobs, 4)), r -> {
            Thread t = new Thread(r, "load-gen-retry");
            t.setDaemon(true);
            return t;
        });
        Thread[] threads = new Thread[jobs];
        long[] end = new long[jobs];
        boolean[] exhausted = new boolean[jobs];
        long[] unfinished = new long[jobs];
        try {
            for (int j = 0; j < jobs; j++) {
                clients[j] = node.connect(opts, j);
            }
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch ready = new CountDownLatch(jobs);
            CountDownLatch drained = new CountDownLatch(jobs);
            CountDownLatch measured = new CountDownLatch(1);
            for (int j = 0; j < jobs; j++) {
                int job = j;
                threads[j] = new Thread(() -> {
                    OffsetSource offsets = spec.offsets().apply(job);
                    SplittableRandom rnd = new SplittableRandom(0x5eed + job);
                    byte[] data = new byte[spec.bytes()];
                    java.util.Arrays.fill(data, (byte) (0x30 + job % 64));
                    ready.countDown();
                    try {
                        go.await();
                        Job jb = new Job(clients[job], offsets, rnd, data, retries);
                        if (spec.openLoop()) {
                            jb.openLoop(job);
                        } else if (spec.iodepth() == 1 && !spec.asyncFlag()) {
                            jb.sync();
                        } else {
                            jb.async();
                        }
                        end[job] = jb.end;
                        exhausted[job] = jb.exhausted;
                        unfinished[job] = jb.awaitDrain(drainNanos);
                        if (jb.end == 0 || jb.lastDone > jb.end) {
                            end[job] = Math.max(jb.end, jb.lastDone);
                        }
                    } catch (InterruptedException e) {
                        return;
                    } finally {
                        drained.countDown();
                    }
                    try {
                        measured.await(); // alive until the bracket's end has seen what this thread spent
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "load-gen-job-" + j);
                threads[j].start();
            }
            ready.await();
            bracket.begin().run();
            startNanos = System.nanoTime();
            go.countDown();
            drained.await();
            long wall = System.nanoTime() - startNanos;
            bracket.end().run();
            measured.countDown();
            for (Thread t : threads) {
                t.join();
            }
            long maxRuntime = 0;
            int ex = 0;
            long unf = 0;
            for (int j = 0; j < jobs; j++) {
                maxRuntime = Math.max(maxRuntime, end[j] - startNanos);
                ex += exhausted[j] ? 1 : 0;
                unf += unfinished[j];
            }
            Histogram[] ph = new Histogram[phase.length];
            long[] po = new long[phase.length];
            for (int i = 0; i < ph.length; i++) {
                ph[i] = phase[i].getIntervalHistogram();
                po[i] = phaseOk[i].sum();
            }
            return new Result(ok.sum(), errors.sum(), eagain.sum(), bytes.sum(), maxRuntime, wall, ex, all.getIntervalHistogram(),
                    ph, po, firstError.get(), unf, refused.getIntervalHistogram(), dropped.sum());
        } finally {
            for (Thread t : threads) {
                if (t != null && t.isAlive()) {
                    t.interrupt();
                }
            }
            retries.shutdownNow();
            for (NodeClient c : clients) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    /** One job: its connection, offsets and outstanding requests. Confined to its thread except the counters. */
    private final class Job {
        final NodeClient client;
        final OffsetSource offsets;
        final SplittableRandom rnd;
        final byte[] data;
        final ExecutorService retries;
        final Semaphore window;
        final LongAdder outstanding = new LongAdder();
        volatile long lastDone;
        long end;
        boolean exhausted;

        Job(NodeClient client, OffsetSource offsets, SplittableRandom rnd, byte[] data, ExecutorService retries) {
            this.client = client;
            this.offsets = offsets;
            this.rnd = rnd;
            this.data = data;
            this.retries = retries;
            this.window = new Semaphore(spec.iodepth());
        }

        int flags(boolean nowait) {
            int f = (spec.asyncFlag() ? IoFlags.ASYNC : 0) | (spec.buffered() ? IoFlags.BUFFERED : 0);
            return nowait ? f | IoFlags.NOWAIT : f;
        }

        boolean nowait() {
            return spec.nowaitPct() > 0 && (spec.nowaitPct() == 100 || rnd.nextInt(100) < spec.nowaitPct());
        }

        boolean read() {
            return spec.readPct() > 0 && (spec.readPct() == 100 || rnd.nextInt(100) < spec.readPct());
        }

        CompletableFuture<?> send(boolean read, long offset, boolean nowait) {
            sent.increment();
            return (read ? client.read(spec.file(), offset, spec.bytes(), flags(nowait))
                    : client.write(spec.file(), offset, data, flags(nowait))).toCompletableFuture();
        }

        void sync() {
            long deadline = startNanos + spec.durationNanos();
            while (client.isOpen()) {
                long t0 = System.nanoTime();
                if (t0 - deadline >= 0) {
                    break;
                }
                long off = offsets.next();
                if (off < 0) {
                    exhausted = true;
                    break;
                }
                boolean rd = read();
                boolean nw = nowait();
                Throwable err = null;
                try {
                    client.sync(() -> send(rd, off, nw)); // this thread reads its own reply: no hand-over from the reader
                } catch (CompletionException e) {
                    err = e.getCause();
                    if (nw && isEagain(err)) {
                        eagain.increment();
                        if (spec.retryEagain()) {
                            try {
                                client.sync(() -> send(rd, off, false));
                                err = null;
                            } catch (CompletionException e2) {
                                err = e2.getCause();
                            }
                        } else {
                            refused.recordValue(Math.max(1, System.nanoTime() - t0));
                                    continue; // fail fast: counted as EAGAIN only
                        }
                    }
                }
                long t1 = System.nanoTime();
                done(t1, t1 - t0, t0, err);
                lastDone = t1;
            }
            end = lastDone == 0 ? System.nanoTime() : lastDone;
        }

        void async() {
            long deadline = startNanos + spec.durationNanos();
            while (client.isOpen()) {
                window.acquireUninterruptibly();
                int room = 1 + window.drainPermits(); // every reply taken meanwhile: their successors leave together
                int sent = client.corked(() -> issueUpTo(room, deadline));
                window.release(room - sent);
                if (sent < room) {
                    break;
                }
            }
            window.acquireUninterruptibly(spec.iodepth());
            window.release(spec.iodepth());
            end = lastDone;
        }

        /** Issues up to {@code n} windowed requests; fewer once the run's time is up or its offsets ran out. */
        private int issueUpTo(int n, long deadline) {
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                if (t0 - deadline >= 0) {
                    return i;
                }
                long off = offsets.next();
                if (off < 0) {
                    exhausted = true;
                    return i;
                }
                issue(read(), off, nowait(), t0, t0, true);
            }
            return n;
        }

        void openLoop(int job) {
            Phase[] phases = spec.phases();
            long phaseStart = startNanos;
            for (Phase ph : phases) {
                long phaseEnd = phaseStart + ph.nanos();
                double perJob = ph.rate() / spec.jobs();
                if (perJob > 0) {
                    long interval = Math.max(1, (long) (1e9 / perJob));
                    long first = phaseStart + interval * job / spec.jobs(); // stagger the jobs
                    for (long k = 0, t = first; t - phaseEnd < 0 && client.isOpen(); k++, t = first + k * interval) {
                        long now = System.nanoTime();
                        if (t - now > 0) {
                            LockSupport.parkNanos(t - now);
                            if (Thread.interrupted()) {
                                return;
                            }
                        } else if (now - t > spec.maxLagNanos()) {
                            dropped.increment();
                            continue;
                        }
                        long off = offsets.next();
                        if (off < 0) {
                            exhausted = true;
                            break;
                        }
                        issue(read(), off, nowait(), t, t, false);
                    }
                }
                phaseStart = phaseEnd;
            }
            long now = System.nanoTime();
            if (phaseStart - now > 0) {
                LockSupport.parkNanos(phaseStart - now); // a final idle phase still lasts its time
            }
            end = System.nanoTime();
        }

        /** Sends one request asynchronously; latency counts from {@code from}; {@code scheduled} picks its phase. */
        void issue(boolean rd, long off, boolean nw, long from, long scheduled, boolean windowed) {
            outstanding.increment();
            send(rd, off, nw).whenComplete((v, e) -> {
                Throwable err = e instanceof CompletionException ? e.getCause() : e;
                if (err != null && nw && isEagain(err)) {
                    eagain.increment();
                    if (spec.retryEagain()) {
                        // not on the reader thread: it must not block on a slot
                        retries.execute(() -> send(rd, off, false).whenComplete((v2, e2) ->
                                finish(from, scheduled, windowed, e2 instanceof CompletionException ? e2.getCause() : e2)));
                        return;
                    }
                    refused.recordValue(Math.max(1, System.nanoTime() - from));
                    finish(from, scheduled, windowed, null, false); // fail fast: counted as EAGAIN only
                    return;
                }
                finish(from, scheduled, windowed, err);
            });
        }

        void finish(long from, long scheduled, boolean windowed, Throwable err) {
            finish(from, scheduled, windowed, err, true);
        }

        void finish(long from, long scheduled, boolean windowed, Throwable err, boolean count) {
            long now = System.nanoTime();
            if (count) {
                done(now, now - from, scheduled, err);
            }
            lastDone = now;
            outstanding.decrement();
            if (windowed) {
                window.release();
            }
        }

        void done(long now, long latency, long scheduled, Throwable err) {
            if (err != null) {
                errors.increment();
                firstError.compareAndSet(null, String.valueOf(err.getMessage()));
                return;
            }
            ok.increment();
            bytes.add(spec.bytes());
            long lat = Math.max(1, latency);
            all.recordValue(lat);
            timeline.recordValue(lat);
            int p = spec.phaseAt(scheduled - startNanos);
            phase[p].recordValue(lat);
            phaseOk[p].increment();
            lastCompletion.accumulateAndGet(now, Math::max);
        }

        /** Waits for this job's outstanding requests; returns how many never completed. */
        long awaitDrain(long drainNanos) {
            long until = System.nanoTime() + drainNanos;
            while (outstanding.sum() > 0 && System.nanoTime() - until < 0) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
            return outstanding.sum();
        }
    }

    static boolean isEagain(Throwable t) {
        return t instanceof NodeException ne && ne.errno() == Errno.EAGAIN;
    }
}
