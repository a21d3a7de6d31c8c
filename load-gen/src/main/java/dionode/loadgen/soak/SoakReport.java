package dionode.loadgen.soak;

import dionode.cli.common.Json;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A soak's summary, as text and as JSON, and its verdict: PASS only when nothing failed, the node
 * stopped with exit 0, fsck was clean, everything read back, the RSS stayed under its bound, and
 * every activity actually happened. Immutable once built ({@link Builder} is not thread-safe).
 */
final class SoakReport {
    private final Builder b;
    private final Tally tally;
    private final List<String> reasons;

    private SoakReport(Builder b, Tally tally, List<String> reasons) {
        this.b = b;
        this.tally = tally;
        this.reasons = reasons;
    }

    boolean pass() {
        return reasons.isEmpty();
    }

    List<String> reasons() {
        return reasons;
    }

    /** The figures as they come in; {@link #build} judges them. */
    static final class Builder {
        private final long seed;
        private final int writers;
        private final int duration;
        private String node = "";
        private boolean own;
        private NodeProcess.StatedMemory stated;
        private long rssBoundKib = -1;
        private String rssBoundWhy = "";
        private double trafficSeconds;
        private long maxRssKib = -1;
        private long maxRssAt;
        private List<Long> minuteMaxKib = List.of();
        private long maxWireBytes;
        private long minFreeBlocks = -1;
        private Integer stopExit;
        private NodeProcess.Finished fsck;
        private ReadBack.Result readBack;
        private Integer restartStopExit;
        private List<String> warnings = List.of();

        Builder(long seed, int writers, int duration) {
            this.seed = seed;
            this.writers = writers;
            this.duration = duration;
        }

        Builder node(String description, boolean ownNode) {
            node = description;
            own = ownNode;
            return this;
        }

        Builder memory(NodeProcess.StatedMemory s, long boundKib, String why) {
            stated = s;
            rssBoundKib = boundKib;
            rssBoundWhy = why;
            return this;
        }

        Builder traffic(double seconds) {
            trafficSeconds = seconds;
            return this;
        }

        Builder sampled(Sampler s) {
            maxRssKib = s.maxRssKib();
            maxRssAt = s.maxRssAtSecond();
            minuteMaxKib = s.minuteMaxKib();
            maxWireBytes = s.maxWireBytes();
            minFreeBlocks = s.minFreeBlocks();
            return this;
        }

        Builder stopped(int exit) {
            stopExit = exit;
            return this;
        }

        Builder fsck(NodeProcess.Finished f) {
            fsck = f;
            return this;
        }

        Builder readBack(ReadBack.Result r) {
            readBack = r;
            return this;
        }

        Builder restartStopped(int exit) {
            restartStopExit = exit;
            return this;
        }

        Builder warnings(List<String> w) {
            warnings = List.copyOf(w);
            return this;
        }

        SoakReport build(Tally tally) {
            List<String> r = new ArrayList<>();
            if (own) {
                if (stated == null) {
                    r.add("the node did not log its worst-case memory line at start");
                }
                if (stopExit == null || stopExit != 0) {
                    r.add("SIGTERM: " + (stopExit == null ? "the node was not running to be stopped" : "exit " + stopExit + ", not 0"));
                }
                if (fsck == null || fsck.exit() != 0 || !fsck.stdout().contains("\"clean\":true")) {
                    r.add("fsck: " + (fsck == null ? "not run" : "exit " + fsck.exit() + ": " + fsck.stdout()));
                }
                if (restartStopExit == null || restartStopExit != 0) {
                    r.add("SIGTERM after the read-back: " + (restartStopExit == null ? "not run" : "exit " + restartStopExit + ", not 0"));
                }
            }
            if (readBack == null) {
                r.add("nothing was read back after the traffic");
            }
            if (rssBoundKib > 0 && maxRssKib > rssBoundKib) {
                r.add("max RSS " + (maxRssKib >> 10) + " MiB above its bound of " + (rssBoundKib >> 10) + " MiB");
            }
            if (rssBoundKib > 0 && maxRssKib < 0) {
                r.add("the node's RSS could not be sampled");
            }
            coverage(tally, r);
            if (tally.failureCount() > 0) {
                List<Tally.Failure> groups = tally.failures();
                r.add(tally.failureCount() + " failure(s) during the soak, " + groups.size() + (groups.size() == Tally.KEPT_FAILURES
                        ? " kinds or more (the first " + Tally.KEPT_FAILURES + ")" : " kind(s)") + ", the first of each:");
                groups.forEach(f -> r.add("  " + f));
            }
            return new SoakReport(this, tally, List.copyOf(r));
        }

        /** Each activity must have happened, or the soak did not test what it says. */
        private static void coverage(Tally t, List<String> r) {
            need(r, t.requests("verified.write", Answer.OK), "no verified write was acknowledged");
            need(r, t.requests("verified.read", Answer.OK), "no verified read was answered");
            need(r, t.event("unlink_rounds", 0), "no unlink round finished");
            need(r, t.event("estale_answers", 0), "no request through a stale handle was answered ESTALE");
            need(r, t.event("enospc_cycles", 0), "the device was never filled to ENOSPC");
            need(r, t.event("prealloc_writes_on_full_device", 0), "no write into fallocated space on a full device");
            need(r, t.fuzzedEnding("ebadmsg"), "no fuzzed connection was refused with EBADMSG");
            need(r, t.event("unread_replies_answered", 0), "no pipelined read left unread was answered");
        }

        private static void need(List<String> r, long count, String otherwise) {
            if (count <= 0) {
                r.add(otherwise);
            }
        }
    }

    void print(PrintStream out) {
        out.println("load-gen soak: " + (pass() ? "PASS" : "FAIL"));
        out.println("  node: " + b.node);
        out.printf(Locale.ROOT, "  traffic: %.1f s (--duration %d), seed %d, %d verified writers%n", b.trafficSeconds, b.duration, b.seed,
                b.writers);
        out.println("requests by kind (outcome count; the first message of each failed outcome under it):");
        Map<String, String> examples = tally.examples();
        tally.requests().forEach((kind, outcomes) -> {
            row(out, kind, outcomes);
            examples.forEach((k, v) -> {
                if (k.startsWith(kind + " ")) {
                    out.printf(Locale.ROOT, "      %s: %s%n", k.substring(kind.length() + 1), v.length() > 150 ? v.substring(0, 150) + "..." : v);
                }
            });
        });
        long fuzzed = tally.fuzz().values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
        out.printf(Locale.ROOT, "fuzzed connections and bad requests: %,d (case: ending count)%n", fuzzed);
        table(out, tally.fuzz());
        Map<String, Long> ev = tally.events();
        out.println("activities: " + ev.entrySet().stream().map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%,d", e.getValue()))
                .collect(Collectors.joining(", ")));
        out.printf(Locale.ROOT, "memory: max RSS %s at %d s, bound %s (%s); the node's stated worst case: %s; max wire_bytes %d MiB;"
                + " min free_blocks %d%n", mib(b.maxRssKib), b.maxRssAt, mib(b.rssBoundKib), b.rssBoundWhy,
                b.stated == null ? "not logged" : b.stated.worstCaseMib() + " MiB of the " + b.stated.heapMib() + " MiB heap",
                b.maxWireBytes >> 20, b.minFreeBlocks);
        out.println("  RSS max per minute (MiB): " + b.minuteMaxKib.stream().map(k -> Long.toString(k >> 10)).collect(Collectors.joining(" ")));
        if (b.own) {
            out.println("node: SIGTERM exit " + b.stopExit + "; fsck exit " + (b.fsck == null ? "-" : b.fsck.exit() + " " + b.fsck.stdout())
                    + "; restarted, read back, SIGTERM exit " + b.restartStopExit);
        }
        if (b.readBack != null) {
            out.printf(Locale.ROOT, "read back: %d files, %,d bytes compared (%,d of them acknowledged writes, the rest holes and"
                    + " unwritten space), %d file(s) differ%n", b.readBack.files(), b.readBack.compared(), b.readBack.acknowledged(),
                    b.readBack.mismatchingFiles());
        }
        if (b.own) {
            out.println("node log: " + b.warnings.size() + " WARN/ERROR line(s)" + (b.warnings.isEmpty() ? "" : ", the first:"));
            b.warnings.stream().limit(12).forEach(w -> out.println("  " + w));
        }
        out.println("result: " + (pass() ? "PASS" : "FAIL"));
        reasons.forEach(r -> out.println("  - " + r));
        out.flush();
    }

    private static void table(PrintStream out, Map<String, Map<String, Long>> rows) {
        rows.forEach((kind, outcomes) -> row(out, kind, outcomes));
    }

    private static void row(PrintStream out, String kind, Map<String, Long> outcomes) {
        out.printf(Locale.ROOT, "  %-22s %s%n", kind, outcomes.entrySet().stream()
                .map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%,d", e.getValue())).collect(Collectors.joining("  ")));
    }

    private static String mib(long kib) {
        return kib < 0 ? "-" : (kib >> 10) + " MiB";
    }

    String json() {
        StringBuilder s = new StringBuilder("{");
        s.append("\"result\":").append(Json.str(pass() ? "PASS" : "FAIL"));
        s.append(",\"reasons\":[").append(reasons.stream().map(Json::str).collect(Collectors.joining(","))).append(']');
        s.append(",\"node\":").append(Json.str(b.node));
        s.append(",\"seed\":").append(b.seed).append(",\"writers\":").append(b.writers).append(",\"duration_s\":").append(b.duration);
        s.append(",\"traffic_s\":").append(String.format(Locale.ROOT, "%.1f", b.trafficSeconds));
        s.append(",\"requests\":").append(nested(tally.requests()));
        s.append(",\"examples\":").append(tally.examples().entrySet().stream().map(e -> Json.str(e.getKey()) + ":" + Json.str(e.getValue()))
                .collect(Collectors.joining(",", "{", "}")));
        s.append(",\"fuzz\":").append(nested(tally.fuzz()));
        s.append(",\"events\":").append(flat(tally.events()));
        s.append(",\"max_rss_kib\":").append(b.maxRssKib).append(",\"max_rss_at_s\":").append(b.maxRssAt);
        s.append(",\"rss_bound_kib\":").append(b.rssBoundKib).append(",\"rss_bound\":").append(Json.str(b.rssBoundWhy));
        s.append(",\"rss_minute_max_kib\":").append(b.minuteMaxKib);
        s.append(",\"stated_worst_case_mib\":").append(b.stated == null ? "null" : b.stated.worstCaseMib());
        s.append(",\"heap_mib\":").append(b.stated == null ? "null" : b.stated.heapMib());
        s.append(",\"max_wire_bytes\":").append(b.maxWireBytes).append(",\"min_free_blocks\":").append(b.minFreeBlocks);
        s.append(",\"stop_exit\":").append(b.stopExit).append(",\"restart_stop_exit\":").append(b.restartStopExit);
        s.append(",\"fsck_exit\":").append(b.fsck == null ? "null" : b.fsck.exit());
        s.append(",\"fsck\":").append(b.fsck == null || !b.fsck.stdout().startsWith("{") ? "null" : b.fsck.stdout());
        s.append(",\"read_back\":").append(b.readBack == null ? "null" : "{\"files\":" + b.readBack.files() + ",\"bytes_compared\":"
                + b.readBack.compared() + ",\"bytes_acknowledged\":" + b.readBack.acknowledged() + ",\"files_differing\":"
                + b.readBack.mismatchingFiles() + "}");
        s.append(",\"failures\":").append(tally.failureCount());
        s.append(",\"node_log_warnings\":[").append(b.warnings.stream().map(Json::str).collect(Collectors.joining(","))).append(']');
        return s.append("}\n").toString();
    }

    private static String nested(Map<String, Map<String, Long>> m) {
        return m.entrySet().stream().map(e -> Json.str(e.getKey()) + ":" + flat(e.getValue())).collect(Collectors.joining(",", "{", "}"));
    }

    private static String flat(Map<String, Long> m) {
        return m.entrySet().stream().map(e -> Json.str(e.getKey()) + ":" + e.getValue()).collect(Collectors.joining(",", "{", "}"));
    }
}
