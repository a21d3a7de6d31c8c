package dionode.loadgen;

import dionode.loadgen.proc.ProcStatus;
import dionode.protocol.client.NodeClient;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * {@code load-gen run --timeline}: one line per second of a run (sent, completed, in flight, p50/p99,
 * EAGAIN, errors, dropped, the node's DIO in flight and, with {@code --node-pid}, its VmRSS), from a
 * daemon thread. Stateless.
 */
final class RunTimeline {
    private RunTimeline() {
    }

    /** Starts the timeline's daemon thread; interrupt it (and join) once the run is over. */
    static Thread start(LoadEngine engine, NodeClient control, PrintStream out, Long nodePid) {
        Thread sampler = new Thread(() -> {
            out.println("  timeline:");
            out.printf("  %5s %9s %9s %9s %9s %9s %8s %8s %8s %s%n", "t_s", "sent/s", "done/s", "in_flight", "p50_us", "p99_us", "eagain",
                    "errors", "dropped", nodePid != null ? "node_rss_MiB node_dio_in_flight" : "node_dio_in_flight");
            LoadEngine.Counts prev = engine.snapshot();
            long sec = 0;
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    break;
                }
                if (engine.startNanos() == 0) {
                    engine.intervalLatency();
                    prev = engine.snapshot();
                    continue;
                }
                sec++;
                LoadEngine.Counts now = engine.snapshot();
                Histogram latency = engine.intervalLatency();
                String node;
                try {
                    Long dio = control.stats().toCompletableFuture().get(1, TimeUnit.SECONDS).get("dio_in_flight");
                    node = String.valueOf(dio);
                } catch (Exception e) {
                    node = "?";
                }
                if (nodePid != null) {
                    node = rssMib(nodePid) + " " + node;
                }
                out.printf(Locale.ROOT, "  %5d %9d %9d %9d %9.0f %9.0f %8d %8d %8d %s%n", sec, now.sent() - prev.sent(),
                        now.ok() + now.errors() - prev.ok() - prev.errors(), now.inFlight(),
                        latency.getTotalCount() == 0 ? 0.0 : latency.getValueAtPercentile(50) / 1e3,
                        latency.getTotalCount() == 0 ? 0.0 : latency.getValueAtPercentile(99) / 1e3, now.eagain() - prev.eagain(),
                        now.errors() - prev.errors(), now.dropped() - prev.dropped(), node);
                out.flush();
                prev = now;
            }
        }, "load-gen-timeline");
        sampler.setDaemon(true);
        sampler.start();
        return sampler;
    }

    /** The VmRSS of process {@code pid} in MiB, or {@code ?} once it cannot be read. */
    static String rssMib(long pid) {
        long kib = ProcStatus.vmRssKib(pid);
        return kib < 0 ? "?" : Long.toString(kib >> 10);
    }
}
