package dionode.loadgen.proc;

import java.util.Locale;
import java.util.Map;

/**
 * What a node spent over a measured interval, from {@link CpuMeter}: in all and per thread group.
 * A value.
 *
 * @param source "pid" (a process of its own: all its threads, the JVM's included) or "embedded"
 *        (the node's threads in load-gen's JVM only); or {@link #LOAD_GEN}: not the node's figures
 *        but load-gen's own job and client reader threads' (no groups)
 * @param pid the process measured (load-gen's own when embedded)
 * @param total the node's CPU and context switches over the interval
 * @param groups per thread group ({@link NodeThreads.Group#JVM} only for a process of its own); for
 *        a process of its own, they sum to less than the total by what threads that started and
 *        ended between two samples spent (the JVM's JIT compiler threads come and go), and by the
 *        last second of those that ended ({@code endedThreads})
 * @param endedThreads threads of these figures that ended during the interval: their last second
 *        (since the previous once-a-second sample) is missing from the groups, and from the total
 *        when embedded
 */
public record NodeCpu(String source, long pid, Usage total, Map<NodeThreads.Group, Usage> groups, int endedThreads) {
    /** The source of load-gen's own figures ({@link CpuMeter#ofLoadGenClients}). */
    public static final String LOAD_GEN = "load-gen";

    public NodeCpu {
        groups = Map.copyOf(groups);
    }

    /** CPU (µs, split user/sys) and context switches of some threads, and how many threads. */
    public record Usage(long userUs, long sysUs, long voluntary, long involuntary, int threads) {
        public static final Usage NONE = new Usage(0, 0, 0, 0, 0);

        public long cpuUs() {
            return userUs + sysUs;
        }

        public Usage plus(Usage o) {
            return new Usage(userUs + o.userUs, sysUs + o.sysUs, voluntary + o.voluntary, involuntary + o.involuntary, threads + o.threads);
        }
    }

    /** What the groups sum to (the total, when embedded). */
    public long groupsCpuUs() {
        return groups.values().stream().mapToLong(Usage::cpuUs).sum();
    }

    /**
     * The report's line, per request of {@code requests}: {@code node cpu: N µs/request (user U µs,
     * sys S µs), V voluntary + I involuntary context switches/request (pid P|embedded)}; for
     * load-gen's own figures {@code load-gen cpu: ... (job and client reader threads)}.
     */
    public String line(long requests) {
        String label = label();
        String from = "pid".equals(source) ? "pid " + pid : LOAD_GEN.equals(source) ? "job and client reader threads" : source;
        if (requests <= 0) {
            return String.format(Locale.ROOT, "%s: %d µs in all, no request completed (%s)", label, total.cpuUs(), from);
        }
        double n = requests;
        return String.format(Locale.ROOT,
                "%s: %.1f µs/request (user %.1f µs, sys %.1f µs), %.2f voluntary + %.2f involuntary context switches/request (%s)",
                label, total.cpuUs() / n, total.userUs() / n, total.sysUs() / n, total.voluntary() / n, total.involuntary() / n, from);
    }

    private String label() {
        return LOAD_GEN.equals(source) ? "load-gen cpu" : "node cpu";
    }

    /** A note on what the figures miss, or null when they miss nothing. */
    public String note() {
        if (endedThreads == 0) {
            return null;
        }
        return String.format(Locale.ROOT, "  %s: %d of the %s threads ended during the run; up to a second of each is missing from %s",
                label(), endedThreads, LOAD_GEN.equals(source) ? "measured" : "node's",
                "pid".equals(source) ? "the per-thread-group figures (not from the total)" : "the figures");
    }
}
