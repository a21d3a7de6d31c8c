package dionode.node.trace;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The node's per-stage latency, as {@code stats} shows it: p50 and p99 of each {@link Stage} and of
 * the whole stay in the node, over the requests answered in the last {@link #WINDOW_SECONDS}
 * seconds (the manner of Ceph's op tracker: recent history, so a slow spell shows while it lasts).
 *
 * <p>Requests record into one HdrHistogram {@link Recorder} per stage: wait-free for the threads
 * that answer requests, which never wait for a reader. Once a second {@link #rotate} takes each
 * recorder's interval, keeps the last {@link #WINDOW_SECONDS} of them, and publishes the window's
 * percentiles as one immutable map that {@code stats} reads; so no lock is shared by anyone.
 *
 * <p>Thread-safe: {@link #record} from any thread; {@link #rotate} from one thread at a time (the
 * node's rotation thread, or a test).
 */
public final class StageLatencies implements AutoCloseable {
    public static final int WINDOW_SECONDS = 10;
    static final String TOTAL = "total";
    /**
     * Two significant digits over a fixed range (1 µs to a minute, longer stays counted as a
     * minute): a fixed range never resizes under a recording thread (auto-resizing showed in the
     * node's profile), and about 20 KiB per histogram keeps the window small.
     */
    private static final int DIGITS = 2;
    static final long MAX_MICROS = 60_000_000L;

    private static final Stage[] STAGES = Stage.values();

    private final LongSupplier nanoClock;
    private volatile RequestObserver observer;
    private final Recorder[] recorders = new Recorder[Stage.values().length + 1];
    /** Per recorder, the last {@link #WINDOW_SECONDS} intervals: a ring, the oldest overwritten. */
    private final Histogram[][] window = new Histogram[recorders.length][WINDOW_SECONDS];
    private int slot;
    private volatile Map<String, Long> figures;
    private ScheduledExecutorService ticker;

    public StageLatencies(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        for (int i = 0; i < recorders.length; i++) {
            recorders[i] = new Recorder(1, MAX_MICROS, DIGITS);
        }
        this.figures = publish(new Histogram[recorders.length]);
    }

    /** With the system's monotonic clock and a daemon thread ({@code dionode-latency}) rotating once a second. */
    public static StageLatencies started() {
        StageLatencies latencies = new StageLatencies(System::nanoTime);
        latencies.ticker = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "dionode-latency");
            thread.setDaemon(true);
            return thread;
        });
        latencies.ticker.scheduleAtFixedRate(latencies::rotate, 1, 1, TimeUnit.SECONDS);
        return latencies;
    }

    /** A trace for a request of kind {@code op} (e.g. {@code write}) that has just been decoded. */
    public OpTrace begin(String op) {
        return new OpTrace(this, op);
    }

    /** {@code observer} is told every request answered from now on (the metrics' histograms); it must not block. */
    public void observe(RequestObserver observer) {
        this.observer = observer;
    }

    long now() {
        return nanoClock.getAsLong();
    }

    /** A finished request of kind {@code op}: nanoseconds per stage (indexed by {@link Stage#ordinal()}) and in all. */
    void record(String op, long[] stageNanos, long totalNanos) {
        for (Stage stage : STAGES) {
            recorders[stage.ordinal()].recordValue(micros(stageNanos[stage.ordinal()]));
        }
        recorders[recorders.length - 1].recordValue(micros(totalNanos));
        RequestObserver o = observer;
        if (o != null) {
            o.answered(op, stageNanos, totalNanos);
        }
    }

    private static long micros(long nanos) {
        return Math.min(MAX_MICROS, Math.max(0, nanos / 1000));
    }

    /** Closes the current second: its requests join the window, the oldest second leaves it. */
    public void rotate() {
        Histogram[] merged = new Histogram[recorders.length];
        for (int i = 0; i < recorders.length; i++) {
            window[i][slot] = recorders[i].getIntervalHistogram(window[i][slot]);
            merged[i] = new Histogram(1, MAX_MICROS, DIGITS);
            for (Histogram second : window[i]) {
                if (second != null) {
                    merged[i].add(second);
                }
            }
        }
        slot = (slot + 1) % WINDOW_SECONDS;
        figures = publish(merged);
    }

    private static Map<String, Long> publish(Histogram[] merged) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < merged.length; i++) {
            String name = i < Stage.values().length ? Stage.values()[i].statName() : TOTAL;
            Histogram h = merged[i];
            out.put("latency_" + name + "_p50_us", h == null ? 0 : h.getValueAtPercentile(50));
            out.put("latency_" + name + "_p99_us", h == null ? 0 : h.getValueAtPercentile(99));
        }
        Histogram total = merged[merged.length - 1];
        out.put("latency_requests", total == null ? 0 : total.getTotalCount());
        return Map.copyOf(out);
    }

    /** The window's figures as of the last rotation, by stats name. */
    public Map<String, Long> figures() {
        return figures;
    }

    /** Offers each figure to {@code gauges} (name, reader): how {@code stats} comes to show them. */
    public void registerGauges(BiConsumer<String, LongSupplier> gauges) {
        for (String name : figures.keySet()) {
            gauges.accept(name, () -> figures.getOrDefault(name, 0L));
        }
    }

    @Override
    public void close() {
        if (ticker != null) {
            ticker.shutdownNow();
        }
    }
}
