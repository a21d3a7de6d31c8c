package dionode.node.metrics;

import dionode.node.inode.NodeCounters;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.Map;

/**
 * Every {@code stats} counter as a {@code dionode_*} series, read when scraped: a name that only
 * goes up is a counter ({@code dionode_writes_total}), a level is a gauge
 * ({@code dionode_dio_in_flight}). Besides, the figures Prometheus users expect under one name with
 * a label: {@code dionode_connections{protocol}} and {@code dionode_device_bytes_total{op}}.
 * Thread-safe: it holds nothing but the counters, which are.
 */
final class CounterFamilies implements MultiCollector {
    static final String PREFIX = "dionode_";
    private static final String CONNECTIONS = "connections_";

    private final NodeCounters counters;

    CounterFamilies(NodeCounters counters) {
        this.counters = counters;
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, Long> stats = counters.snapshot();
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        GaugeSnapshot.Builder connections = GaugeSnapshot.builder().name(PREFIX + "connections")
                .help("open client connections, by protocol");
        stats.forEach((name, value) -> {
            if (NodeCounters.isLevel(name)) {
                out.metricSnapshot(GaugeSnapshot.builder().name(PREFIX + name).help("stats " + name)
                        .dataPoint(GaugeDataPointSnapshot.builder().value(value).build()).build());
            } else {
                out.metricSnapshot(CounterSnapshot.builder().name(PREFIX + name).help("stats " + name)
                        .dataPoint(CounterDataPointSnapshot.builder().value(value).build()).build());
            }
            if (name.startsWith(CONNECTIONS)) {
                connections.dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of("protocol", name.substring(CONNECTIONS.length())))
                        .value(value).build());
            }
        });
        out.metricSnapshot(connections.build());
        out.metricSnapshot(CounterSnapshot.builder().name(PREFIX + "device_bytes").help("bytes the device moved, by direction")
                .dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("op", "read"))
                        .value(stats.getOrDefault(NodeCounters.DEVICE_BYTES_READ, 0L)).build())
                .dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("op", "write"))
                        .value(stats.getOrDefault(NodeCounters.DEVICE_BYTES_WRITTEN, 0L)).build())
                .build());
        return out.build();
    }
}
