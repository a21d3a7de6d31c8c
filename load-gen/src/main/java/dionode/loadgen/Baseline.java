package dionode.loadgen;

import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.device.DeviceFiles;
import dionode.node.device.JnaNativeIO;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * The device's own limit for a seed test: the same writes (same sizes, offsets and per-job regions)
 * issued straight to a preallocated, fully written file opened O_DIRECT, from N threads of this
 * process, one synchronous pwrite in flight each (fio psync on the raw file). No node, no network,
 * no lock. A job that reaches the end of its region starts over (pure overwrites, as the kernel
 * anchor's time_based raw.fio). Not thread-safe; one run at a time.
 */
public final class Baseline implements AutoCloseable {
    private final Path path;
    private final BlockDevice device;
    private final long bytes;
    private final Thread cleanup;

    private Baseline(Path path, BlockDevice device, long bytes, Thread cleanup) {
        this.path = path;
        this.device = device;
        this.bytes = bytes;
        this.cleanup = cleanup;
    }

    /** Creates a fully written file of {@code bytes} in {@code dir} (removed by {@link #close()}). */
    public static Baseline create(Path dir, long bytes) throws IOException {
        Path p = dir.resolve("load-gen-baseline-" + ProcessHandle.current().pid() + ".img").toAbsolutePath();
        Files.deleteIfExists(p);
        Thread cleanup = new Thread(() -> Target.deleteQuietly(p), "load-gen-baseline-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        JnaNativeIO io = new JnaNativeIO();
        long size = (bytes + DeviceFiles.SIZE_UNIT - 1) / DeviceFiles.SIZE_UNIT * DeviceFiles.SIZE_UNIT;
        try {
            DeviceFiles.createFullyWritten(p, size, io);
            return new Baseline(p, BlockDevice.open(p, io, 0), size, cleanup);
        } catch (IOException | RuntimeException e) {
            Target.deleteQuietly(p);
            Runtime.getRuntime().removeShutdownHook(cleanup);
            throw e;
        }
    }

    public long bytes() {
        return bytes;
    }

    /** Runs {@code jobs} writers of {@code test} over regions of {@code regionBytes} for {@code durationNanos}. */
    public LoadEngine.Result run(SeedTest test, int jobs, long regionBytes, long durationNanos) throws InterruptedException {
        if ((long) jobs * regionBytes > bytes) {
            throw new IllegalArgumentException(jobs + " regions of " + regionBytes + " bytes exceed the baseline file");
        }
        Recorder rec = new Recorder(3);
        LongAdder ok = new LongAdder();
        LongAdder errors = new LongAdder();
        AtomicReference<String> firstError = new AtomicReference<>();
        long[] end = new long[jobs];
        long[] start = new long[1];
        CountDownLatch ready = new CountDownLatch(jobs);
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[jobs];
        long n = test.writesPerRegion(regionBytes);
        for (int j = 0; j < jobs; j++) {
            int job = j;
            threads[j] = new Thread(() -> {
                ByteBuffer buf = AlignedBuffers.allocateAligned(test.stride());
                for (int i = 0; i < test.writeBytes(); i++) {
                    buf.put(i, (byte) (0x30 + job % 64));
                }
                long regionStart = job * regionBytes;
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                long deadline = start[0] + durationNanos;
                long last = start[0];
                for (long i = 0; ; i++) {
                    long t0 = System.nanoTime();
                    if (t0 - deadline >= 0) {
                        break;
                    }
                    buf.clear().limit(test.writeBytes());
                    try {
                        device.write(test.offset(regionStart, i % n), buf);
                        ok.increment();
                        last = System.nanoTime();
                        rec.recordValue(Math.max(1, last - t0));
                    } catch (IOException e) {
                        errors.increment();
                        firstError.compareAndSet(null, e.getMessage());
                        last = System.nanoTime();
                    }
                }
                end[job] = last;
            }, "load-gen-baseline-" + j);
            threads[j].start();
        }
        ready.await();
        start[0] = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        long wall = System.nanoTime() - start[0];
        long max = 0;
        for (long e : end) {
            max = Math.max(max, e - start[0]);
        }
        long ios = ok.sum();
        return new LoadEngine.Result(ios, errors.sum(), 0, ios * test.writeBytes(), max, wall, 0, rec.getIntervalHistogram(),
                new org.HdrHistogram.Histogram[0], new long[0], firstError.get(), 0, new org.HdrHistogram.Histogram(3), 0);
    }

    @Override
    public void close() {
        try {
            device.close();
        } catch (IOException ignored) {
            // removing it anyway
        }
        Target.deleteQuietly(path);
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException ignored) {
            // shutting down already
        }
    }
}
