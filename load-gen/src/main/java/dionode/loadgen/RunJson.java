package dionode.loadgen;

import dionode.cli.common.Json;
import dionode.loadgen.proc.NodeCpu;
import dionode.loadgen.proc.NodeThreads;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * {@code load-gen run --json FILE}: the result, the latency percentiles and, when the node could be
 * measured ({@code --node-pid} or embedded), {@code node_cpu} and {@code node_cpu_threads} (per
 * thread group, {@link NodeThreads}); and {@code loadgen_cpu}, load-gen's own job and client
 * reader threads per request ({@code CpuMeter.ofLoadGenClients}). Stateless.
 */
final class RunJson {
    private RunJson() {
    }

    /**
     * The report of {@code res}; {@code cpu} null when the node was not measured, {@code clients} when
     * load-gen's own threads were not (no /proc to read them from); {@code requests} what CPU is divided by;
     * {@code eagainReasons} the node's EAGAIN answers during the run by reason ({@code eagain_by_reason});
     * {@code buffered} whether the requests were buffered I/O ({@code --buffered}) rather than direct.
     */
    static String of(LoadEngine.Result res, long requests, NodeCpu cpu, NodeCpu clients, Map<String, Long> eagainReasons,
            boolean buffered) {
        double secs = res.maxJobRuntimeNanos() / 1e9;
        StringBuilder s = new StringBuilder("{");
        s.append("\"buffered\":").append(buffered);
        s.append(",\"requests_ok\":").append(res.ios()).append(",\"errors\":").append(res.errors()).append(",\"eagain\":")
                .append(res.eagain()).append(",\"unfinished\":").append(res.unfinished()).append(",\"dropped\":").append(res.dropped());
        s.append(",\"eagain_by_reason\":{");
        String comma = "";
        for (Map.Entry<String, Long> e : eagainReasons.entrySet()) {
            s.append(comma).append(Json.str(e.getKey())).append(':').append(e.getValue());
            comma = ",";
        }
        s.append('}');
        s.append(",\"requests_completed\":").append(requests);
        s.append(",\"seconds\":").append(dec(secs)).append(",\"iops\":").append(dec(res.iops()))
                .append(",\"mib_per_s\":").append(dec(res.bytes() / Math.max(secs, 1e-9) / (1 << 20)));
        s.append(",\"latency_us\":").append(latency(res.latencyNanos()));
        if (cpu != null) {
            s.append(",\"node_cpu\":{").append(perRequest(cpu.total(), requests)).append(",\"source\":").append(Json.str(cpu.source()))
                    .append(",\"pid\":").append(cpu.pid()).append(",\"threads_us\":").append(cpu.groupsCpuUs())
                    .append(",\"ended_threads\":").append(cpu.endedThreads()).append('}');
            s.append(",\"node_cpu_threads\":{");
            String sep = "";
            for (Map.Entry<NodeThreads.Group, NodeCpu.Usage> e : new TreeMap<>(cpu.groups()).entrySet()) {
                s.append(sep).append(Json.str(e.getKey().key())).append(":{").append(perRequest(e.getValue(), requests)).append('}');
                sep = ",";
            }
            s.append('}');
        }
        if (clients != null) {
            s.append(",\"loadgen_cpu\":{").append(perRequest(clients.total(), requests)).append('}');
        }
        return s.append("}\n").toString();
    }

    /** An object's members: per request of {@code requests} (null when none completed), and the totals they come from. */
    private static String perRequest(NodeCpu.Usage u, long requests) {
        StringBuilder s = new StringBuilder();
        s.append("\"us_per_request\":").append(per(u.cpuUs(), requests))
                .append(",\"user_us_per_request\":").append(per(u.userUs(), requests))
                .append(",\"sys_us_per_request\":").append(per(u.sysUs(), requests))
                .append(",\"vcsw_per_request\":").append(per(u.voluntary(), requests))
                .append(",\"ivcsw_per_request\":").append(per(u.involuntary(), requests))
                .append(",\"us\":").append(u.cpuUs()).append(",\"vcsw\":").append(u.voluntary()).append(",\"ivcsw\":").append(u.involuntary())
                .append(",\"threads\":").append(u.threads());
        return s.toString();
    }

    private static String latency(Histogram h) {
        if (h.getTotalCount() == 0) {
            return "null";
        }
        return "{\"p50\":" + dec(h.getValueAtPercentile(50) / 1e3) + ",\"p90\":" + dec(h.getValueAtPercentile(90) / 1e3)
                + ",\"p99\":" + dec(h.getValueAtPercentile(99) / 1e3) + ",\"p99_9\":" + dec(h.getValueAtPercentile(99.9) / 1e3)
                + ",\"max\":" + dec(h.getMaxValue() / 1e3) + ",\"mean\":" + dec(h.getMean() / 1e3) + ",\"n\":" + h.getTotalCount() + "}";
    }

    private static String per(long value, long requests) {
        return requests <= 0 ? "null" : dec((double) value / requests);
    }

    private static String dec(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "null";
    }
}
