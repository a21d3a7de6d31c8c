package dionode.node.metrics;

import dionode.node.server.NodeServer;
import dionode.node.trace.RequestObserver;
import dionode.node.trace.Stage;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A running node's metrics: its counters ({@link CounterFamilies}), a latency histogram per
 * request kind, per stage and for journal commits, and its health. The histograms are fed as
 * requests are answered and commits are made, on those threads, without a lock of ours
 * (Prometheus' data points are lock-free). Thread-safe.
 */
public final class NodeMetrics implements RequestObserver {
    /** 10 µs to 10 s: a direct write on this kind of disk takes tens of µs, a stalled one seconds. */
    private static final double[] BUCKETS = {10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3,
        0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final double NANOS = 1e9;
    private static final Stage[] STAGES = Stage.values();

    private final NodeServer node;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram requests;
    private final Map<String, DistributionDataPoint> byOp = new ConcurrentHashMap<>();
    private final DistributionDataPoint[] byStage = new DistributionDataPoint[STAGES.length];
    private final Histogram commits;

    private NodeMetrics(NodeServer node) {
        this.node = node;
        registry.register(new CounterFamilies(node.counters()));
        requests = seconds("dionode_request_latency", "time from a request's decoding to its reply, by request kind", "op");
        Histogram stages = seconds("dionode_stage_latency", "a request's time in each stage of the node (DESIGN §6)", "stage");
        for (Stage stage : STAGES) {
            byStage[stage.ordinal()] = stages.labelValues(stage.statName());
        }
        commits = seconds("dionode_journal_commit", "a journal commit: pre-flush, log write and flush");
    }

    /** Metrics of {@code node}, fed from now on. */
    public static NodeMetrics attach(NodeServer node) {
        NodeMetrics metrics = new NodeMetrics(node);
        node.dispatcher().latencies().observe(metrics);
        node.volume().journal().observeCommits(nanos -> metrics.commits.observe(nanos / NANOS));
        return metrics;
    }

    private Histogram seconds(String name, String help, String... labels) {
        return Histogram.builder().name(name).help(help).unit(Unit.SECONDS).labelNames(labels).classicOnly()
                .classicUpperBounds(BUCKETS).register(registry);
    }

    @Override
    public void answered(String op, long[] stageNanos, long totalNanos) {
        byOp.computeIfAbsent(op, requests::labelValues).observe(totalNanos / NANOS);
        for (int i = 0; i < byStage.length; i++) {
            byStage[i].observe(stageNanos[i] / NANOS);
        }
    }

    PrometheusRegistry registry() {
        return registry;
    }

    /** Why the node does not serve writes, or null while it does: a journal that aborted makes the volume read-only (EROFS). */
    String unhealthy() {
        Throwable cause = node.volume().journal().abortCause();
        return cause == null ? null : "journal aborted, the volume is read-only (EROFS): " + cause.getMessage();
    }
}
