package dionode.loadgen;

import dionode.loadgen.proc.CpuMeter;
import dionode.cli.option.SizeConverter;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.util.Sizes;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code load-gen run}: custom load against one file of a node. Closed loop (sync or async with
 * an iodepth) or open loop ({@code --rate}); reports throughput, HdrHistogram percentiles, EAGAIN
 * and error counts, the node's counters before and after (and their difference) and, for a node in
 * this JVM or given by {@code --node-pid}, its CPU time and context switches per request.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Custom load against one file: pattern, block size, alignment, read/write mix, NOWAIT share,",
            "jobs, iodepth, duration, target layout; closed loop, or open loop with --rate (latency counted from the",
            "scheduled send time, so back-pressure shows as latency instead of being hidden)."})
public final class RunCommand implements Callable<Integer> {
    @Mixin
    NodeOptions nodeOptions;

    @Option(names = "--pattern", paramLabel = "seq|random", description = "offsets within each job's region (default: ${DEFAULT-VALUE})")
    String pattern = "seq";

    @Option(names = "--bs", paramLabel = "BYTES", converter = SizeConverter.class, description = "request size, e.g. 8k, 14336 (default: 8k)")
    long bs = 8192;

    @Option(names = "--stride", paramLabel = "BYTES", converter = SizeConverter.class,
            description = "distance between request slots, e.g. 16k with --bs 14336 for the seed's Test 2 (default: --bs)")
    Long stride;

    @Option(names = "--align-offset", paramLabel = "BYTES", converter = SizeConverter.class,
            description = "added to every offset, e.g. 512 for unaligned direct I/O (default: 0)")
    long alignOffset;

    @Option(names = "--read-pct", paramLabel = "0-100", description = "share of reads, the rest writes (default: ${DEFAULT-VALUE})")
    int readPct;

    @Option(names = "--nowait-pct", paramLabel = "0-100", description = "share of requests sent with NOWAIT (default: ${DEFAULT-VALUE})")
    int nowaitPct;

    @Option(names = "--eagain", paramLabel = "retry|count",
            description = "a NOWAIT request refused with EAGAIN: sent again without NOWAIT, or only counted (default: ${DEFAULT-VALUE})")
    String eagain = "retry";

    @Option(names = "--jobs", paramLabel = "N", description = "jobs: one thread and connection each (default: ${DEFAULT-VALUE})")
    int jobs = 1;

    @Option(names = "--iodepth", paramLabel = "N",
            description = "closed loop: requests in flight per job; above 1 they are async (IoFlags.ASYNC) (default: ${DEFAULT-VALUE})")
    int iodepth = 1;

    @Option(names = "--async", negatable = true,
            description = "flag requests IoFlags.ASYNC (default: when --iodepth > 1 or with --rate)")
    Boolean async;

    @Option(names = "--duration", paramLabel = "S", description = "seconds (per --rate phase) (default: ${DEFAULT-VALUE})")
    int duration = 5;

    @Option(names = "--rate", paramLabel = "N[/s][@S][,...]", split = ",",
            description = {"open loop: requests per second over all jobs; several values are consecutive phases, each of",
                "S seconds (default --duration), e.g. 20000/s@10,1000/s@30"})
    List<String> rate;

    @Option(names = "--max-lag", paramLabel = "S",
            description = "open loop: drop (and count) a request not sent within S seconds of its scheduled time (default: never)")
    Double maxLag;

    @Option(names = "--max-in-flight", paramLabel = "N",
            description = "open loop: requests outstanding per connection before sending blocks (default: ${DEFAULT-VALUE})")
    int maxInFlight = 1024;

    @Option(names = "--layout", paramLabel = "L",
            description = "target file layout: written, unwritten, hole, test1, test2, existing (default: ${DEFAULT-VALUE})")
    String layout = "written";

    @Option(names = "--dax", description = {"create the target file as a DAX file (data through the node's mapping of its",
        "device); with --layout written, unwritten or hole"})
    boolean dax;

    @Option(names = "--buffered", description = {"send every request, read or write, as buffered I/O (IoFlags.BUFFERED), the node's",
        "buffered path: any --bs and offset (direct I/O must be sector aligned); not with --dax or --nowait-pct"})
    boolean buffered;

    @Option(names = "--region-mib", paramLabel = "N", description = "region per job, MiB (default: ${DEFAULT-VALUE})")
    int regionMib = 64;

    @Option(names = "--policy", paramLabel = "P", description = "lock policy of the file (default: ${DEFAULT-VALUE})")
    String policy = "zeroing-aware";

    @Option(names = "--file", paramLabel = "NAME", description = "file name on the node (default: load-gen-run-PID, removed after)")
    String file;

    @Option(names = "--keep", description = "keep the file afterwards")
    boolean keep;

    @Option(names = "--timeline", description = "print one line per second: sent, completed, in flight, p50/p99, EAGAIN, node RSS")
    boolean timeline;

    @Option(names = "--node-pid", paramLabel = "PID",
            description = {"the node's process on this machine: its CPU time and context switches per request (from /proc) are",
                "reported, and its VmRSS in the timeline; an embedded node is measured without it (its own threads only),",
                "a remote one cannot be"})
    Long nodePid;

    @Option(names = "--warmup", paramLabel = "S",
            description = {"seconds of the same load before the measured run, not counted (JIT compilation of client and",
                "node); only with --layout existing or written, whose writes leave the file as it was (default: ${DEFAULT-VALUE})"})
    int warmup = 0;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the result as JSON (with node_cpu when the node is measured)")
    Path json;

    @Override
    public Integer call() throws Exception {
        nodeOptions.check();
        if (jobs < 1 || iodepth < 1 || duration < 1 || regionMib < 1 || bs < 1 || bs > (16 << 20) || alignOffset < 0
                || (stride != null && (stride < bs || stride > (1L << 30)))) {
            throw new IllegalArgumentException("--jobs, --iodepth, --duration, --region-mib, --bs must be positive");
        }
        if (warmup < 0 || warmup > 0 && !"existing".equals(layout) && !"written".equals(layout)) {
            throw new IllegalArgumentException("--warmup must be 0 or more seconds, and runs only with --layout existing or written "
                    + "(the warm-up's writes would change a " + layout + " layout before it is measured)");
        }
        if (dax && !List.of("written", "unwritten", "hole").contains(layout)) {
            throw new IllegalArgumentException("--dax makes a new file: it works with --layout written, unwritten or hole, not "
                    + layout);
        }
        checkBuffered();
        boolean random = switch (pattern) {
            case "seq" -> false;
            case "random" -> true;
            default -> throw new IllegalArgumentException("--pattern wants seq or random");
        };
        LoadEngine.Phase[] phases = parsePhases(rate, duration);
        boolean openLoop = phases.length > 0;
        boolean retry = switch (eagain) {
            case "retry" -> true;
            case "count" -> false;
            default -> throw new IllegalArgumentException("--eagain wants retry or count");
        };
        boolean asyncFlag = async != null ? async : iodepth > 1 || openLoop;
        LockPolicy pol = LockPolicy.parse(policy);
        long region = (long) regionMib << 20;
        long fileBytes = region * jobs;
        String name = file != null ? file : "load-gen-run-" + ProcessHandle.current().pid();
        PrintStream out = System.out;
        CpuMeter pidMeter = nodePid == null ? null : RunCpu.ofProcess(nodePid);
        try (Target node = nodeOptions.open(fileBytes);
                NodeClient control = node.connect()) {
            long t0 = System.nanoTime();
            FileId file = prepare(node, control, name, pol, fileBytes);
            double layoutS = (System.nanoTime() - t0) / 1e9;
            int bytes = (int) bs;
            int align = (int) alignOffset;
            int step = stride != null ? stride.intValue() : bytes;
            long lag = maxLag == null ? Long.MAX_VALUE : (long) (maxLag * 1e9);
            LoadEngine.Spec spec = new LoadEngine.Spec(file, jobs, iodepth, asyncFlag, buffered, TimeUnit.SECONDS.toNanos(duration),
                    phases, lag, bytes, readPct, nowaitPct, retry, openLoop ? maxInFlight : iodepth + 2,
                    job -> OffsetSource.slots(job * region, region, step, bytes, align, random, 0x10ad + job));
            if (warmup > 0) {
                new LoadEngine(spec.closedLoopFor(TimeUnit.SECONDS.toNanos(warmup)), LoadEngine.Bracket.NONE)
                        .run(node, TimeUnit.SECONDS.toNanos(120));
            }
            Map<String, Long> before = control.stats().toCompletableFuture().join();
            CpuMeter cpu = pidMeter != null ? pidMeter : node.isEmbedded() ? CpuMeter.ofThisJvm() : null;
            CpuMeter clients = RunCpu.ofLoadGenClients();
            LoadEngine engine = new LoadEngine(spec, RunCpu.bracket(clients, cpu));
            out.printf(Locale.ROOT, "load-gen run: %s, file %s (%s, %s%s, %d MiB per job), layout %.2f s%n", node, name, pol, layout,
                    dax ? ", dax" : "", regionMib, layoutS);
            out.printf(Locale.ROOT, "  %d job(s), %s, %s %d bytes at +%d, %s, %d%% reads, %d%% NOWAIT (EAGAIN: %s)%n", jobs,
                    openLoop ? "open loop " + describe(phases) + (maxLag != null ? ", max lag " + maxLag + " s" : "")
                            : (iodepth == 1 && !asyncFlag ? "sync (1 in flight)" : iodepth + " in flight") + " for " + duration + " s",
                    pattern, bytes, align, buffered ? "buffered" : "direct", readPct, nowaitPct, eagain);
            Thread sampler = timeline ? RunTimeline.start(engine, control, out, nodePid) : null;
            LoadEngine.Result res = engine.run(node, TimeUnit.SECONDS.toNanos(120));
            if (sampler != null) {
                sampler.interrupt();
                sampler.join();
            }
            Map<String, Long> after = control.stats().toCompletableFuture().join();
            long completed = res.ios() + res.errors() + (retry ? 0 : res.eagain()); // what the node answered
            report(out, res, phases, cpu, clients, completed, before, after);
            if (json != null) {
                Files.writeString(json, RunJson.of(res, completed, RunCpu.reading(cpu), RunCpu.reading(clients), eagainReasons(before, after),
                        buffered),
                        StandardCharsets.UTF_8);
            }
            if (!keep && !"existing".equals(layout)) {
                Layouts.remove(control, name);
            }
            return res.errors() > 0 || res.unfinished() > 0 ? 1 : 0;
        }
    }

    /**
     * What does not combine with {@code --buffered}. Alignment needs no check here: the node refuses an
     * unaligned direct request (EINVAL, counted as an error) and takes a buffered one at any byte range.
     */
    private void checkBuffered() {
        if (buffered && dax) {
            throw new IllegalArgumentException("--buffered and --dax exclude each other: a DAX file's requests go through the node's "
                    + "mapping of its device whatever their flags, so none would take the buffered path");
        }
        if (buffered && nowaitPct > 0) {
            throw new IllegalArgumentException("--buffered takes no --nowait-pct (got " + nowaitPct + "): the node answers a buffered "
                    + "NOWAIT write EOPNOTSUPP, as ext4 does");
        }
    }

    private FileId prepare(Target node, NodeClient control, String name, LockPolicy pol, long fileBytes) throws IOException {
        if ("existing".equals(layout)) {
            return control.lookup(name).toCompletableFuture().join().file();
        }
        Layouts.removeQuietly(control, name);
        Layouts.awaitFreeBlocks(control, (fileBytes + fileBytes / 32) / SeedTest.BLOCK, 10_000);
        switch (layout) {
            case "test1", "test2" -> {
                SeedTest test = SeedTest.of(layout.charAt(4) - '0');
                return Layouts.buildVerified(node, control, name, pol, test, fileBytes);
            }
            case "written", "unwritten", "hole" -> {
                FileId file = control.create(name, pol, 0644, true, dax).toCompletableFuture().join().file();
                if ("hole".equals(layout)) {
                    control.truncate(file, fileBytes).toCompletableFuture().join();
                } else {
                    control.fallocate(file, 0, fileBytes, false).toCompletableFuture().join();
                    if ("written".equals(layout)) {
                        Layouts.fill(node, file, fileBytes);
                    }
                }
                return file;
            }
            default -> throw new IllegalArgumentException("--layout wants written, unwritten, hole, test1, test2 or existing");
        }
    }

    /** {@code N[/s][@S]} items: rate per second, and seconds (default {@code defaultSeconds}). */
    static LoadEngine.Phase[] parsePhases(List<String> items, int defaultSeconds) {
        if (items == null) {
            return new LoadEngine.Phase[0];
        }
        LoadEngine.Phase[] out = new LoadEngine.Phase[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = parsePhase(items.get(i), defaultSeconds);
        }
        return out;
    }

    /** One {@code N[/s][@S]} item; N may have a k/m/g suffix like a size ({@link Sizes}). */
    private static LoadEngine.Phase parsePhase(String text, int defaultSeconds) {
        String item = text.trim();
        double secs = defaultSeconds;
        long perSecond;
        try {
            int at = item.indexOf('@');
            if (at >= 0) {
                String seconds = item.substring(at + 1);
                secs = Double.parseDouble(seconds.endsWith("s") ? seconds.substring(0, seconds.length() - 1) : seconds);
                item = item.substring(0, at);
            }
            if (item.endsWith("/s")) {
                item = item.substring(0, item.length() - 2);
            }
            perSecond = Sizes.parse(item);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--rate wants N[/s][@S] (e.g. 20000/s@10), got '" + text + "'");
        }
        return new LoadEngine.Phase(perSecond, (long) (secs * 1e9));
    }

    private static String describe(LoadEngine.Phase[] phases) {
        List<String> described = new ArrayList<>();
        for (LoadEngine.Phase p : phases) {
            described.add(String.format(Locale.ROOT, "%.0f/s for %.0f s", p.rate(), p.nanos() / 1e9));
        }
        return String.join(" then ", described);
    }

    private void report(PrintStream out, LoadEngine.Result res, LoadEngine.Phase[] phases, CpuMeter cpu, CpuMeter clients, long completed,
            Map<String, Long> before, Map<String, Long> after) {
        double secs = res.maxJobRuntimeNanos() / 1e9;
        out.printf(Locale.ROOT, "result: %,d requests ok in %.2f s: %,.0f req/s, %.1f MiB/s; errors %d, EAGAIN %d, unfinished %d%s%n",
                res.ios(), secs, res.iops(), res.bytes() / Math.max(secs, 1e-9) / (1 << 20), res.errors(), res.eagain(),
                res.unfinished(), phases.length > 0 ? ", dropped late " + res.dropped() : "");
        if (nowaitPct > 0) {
            Map<String, Long> reasons = eagainReasons(before, after);
            out.printf(Locale.ROOT, "  EAGAIN by reason (the node's count): lock %d, alloc %d, cache %d, journal %d%n",
                    reasons.get("lock"), reasons.get("alloc"), reasons.get("cache"), reasons.get("journal"));
        }
        if (res.exhaustedJobs() > 0) {
            out.printf("  %d job(s) reached the end of their region%n", res.exhaustedJobs());
        }
        if (res.firstError() != null) {
            out.println("  first error: " + res.firstError());
        }
        percentiles(out, "latency", res.latencyNanos());
        if (res.refusedLatencyNanos().getTotalCount() > 0) {
            percentiles(out, "EAGAIN answers (not retried)", res.refusedLatencyNanos());
        }
        for (int i = 0; i < phases.length; i++) {
            out.printf(Locale.ROOT, "  phase %d (%.0f/s offered for %.0f s): %,d ok among the requests scheduled in it (%,.0f/s)%n",
                    i + 1, phases[i].rate(), phases[i].nanos() / 1e9, res.phaseOk()[i], res.phaseOk()[i] / (phases[i].nanos() / 1e9));
            percentiles(out, "    latency from schedule", res.phaseLatencyNanos()[i]);
        }
        if (cpu != null) {
            RunCpu.print(out, cpu, completed);
        }
        if (clients != null) {
            RunCpu.print(out, clients, completed);
        }
        stages(out, after);
        out.println("node stats (before -> after, delta):");
        Map<String, Long> keys = new TreeMap<>(after);
        before.forEach(keys::putIfAbsent);
        keys.keySet().removeIf(key -> key.startsWith(STAGE_PREFIX)); // percentiles of a window: no delta to show
        for (String key : keys.keySet()) {
            long was = before.getOrDefault(key, 0L);
            long is = after.getOrDefault(key, 0L);
            out.printf(Locale.ROOT, "  %-22s %14d -> %14d  %+d%n", key, was, is, is - was);
        }
        out.flush();
    }

    /** Why the node answered EAGAIN during the run: its {@code eagain_<reason>} counters' deltas, by reason. */
    static Map<String, Long> eagainReasons(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String reason : List.of("lock", "alloc", "cache", "journal")) {
            String key = "eagain_" + reason;
            out.put(reason, after.getOrDefault(key, 0L) - before.getOrDefault(key, 0L));
        }
        return out;
    }

    private static final String STAGE_PREFIX = "latency_";
    private static final List<String> STAGES = List.of("queue", "lock", "actor", "device", "journal", "reply", "total");

    /** The node's own account of where its requests' time went ({@code stats}' latency window), when it gives one. */
    static void stages(PrintStream out, Map<String, Long> stats) {
        if (!stats.containsKey(STAGE_PREFIX + "requests")) {
            return;
        }
        StringBuilder line = new StringBuilder("node latency by stage, p50/p99 us (the node's last 10 s):");
        for (String stage : STAGES) {
            line.append(' ').append(stage).append(' ').append(stats.getOrDefault(STAGE_PREFIX + stage + "_p50_us", 0L))
                    .append('/').append(stats.getOrDefault(STAGE_PREFIX + stage + "_p99_us", 0L));
        }
        out.println(line.append(String.format(Locale.ROOT, " (%,d requests)", stats.get(STAGE_PREFIX + "requests"))));
    }

    static void percentiles(PrintStream out, String label, Histogram latency) {
        if (latency.getTotalCount() == 0) {
            out.printf("  %s: no samples%n", label);
            return;
        }
        out.printf(Locale.ROOT, "  %s us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (mean %.0f, n=%d)%n", label,
                latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(90) / 1e3,
                latency.getValueAtPercentile(99) / 1e3, latency.getValueAtPercentile(99.9) / 1e3, latency.getMaxValue() / 1e3,
                latency.getMean() / 1e3, latency.getTotalCount());
    }
}
