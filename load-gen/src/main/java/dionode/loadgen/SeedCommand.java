package dionode.loadgen;

import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code load-gen seed}: the seed's Test 1 and Test 2 (cover letter "Performance") against a node,
 * one column per lock policy, JOBS rows, then speedup = zeroing-aware / overwrite-check; optionally
 * the raw device as a baseline column. stdout carries only the tables; progress goes to stderr.
 */
@Command(name = "seed", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Reproduce the seed's benchmark tables against a node, one column per lock policy.",
            "One file per (test, policy, jobs) run, created with that policy; every job writes its own region of it",
            "sequentially with its own connection. The layout is rebuilt (new file) and checked with fiemap before",
            "every run. Without --target, a node is started in this JVM on a temporary device file in --dir."})
public final class SeedCommand implements Callable<Integer> {
    @Mixin
    NodeOptions nodeOptions;

    @Option(names = "--test", paramLabel = "1|2|all", description = "which test (default: ${DEFAULT-VALUE})")
    String test = "all";

    @Option(names = "--jobs", split = ",", paramLabel = "N,N,...", description = "job counts (default: 1,2,4,8,16,32)")
    List<Integer> jobs = List.of(1, 2, 4, 8, 16, 32);

    @Option(names = "--policies", split = ",", paramLabel = "P,P,...",
            description = "lock policies (default: overwrite-check,aligned-shared,zeroing-aware)")
    List<String> policies = List.of("overwrite-check", "aligned-shared", "zeroing-aware");

    @Option(names = "--region-mib", paramLabel = "N",
            description = {"region per job in MiB, fixed (default: sized per run so that no job reaches its end: the",
                "first run of a test gets room for 32768 writes per 5 s, later runs what the runs already measured",
                "predict x1.6; a run in which a job still reached the end is repeated with a bigger region)"})
    Integer regionMib;

    @Option(names = "--max-file-mib", paramLabel = "N",
            description = "largest test file in MiB, caps JOBS x region and sizes the embedded device (default: 2048 per 5 s of "
                    + "--duration, at most 8192)")
    Integer maxFileMib;

    @Option(names = "--duration", paramLabel = "S", description = "seconds per run (default: ${DEFAULT-VALUE})")
    int duration = 5;

    @Option(names = "--iodepth", paramLabel = "N",
            description = "requests in flight per job; above 1 they are async (IoFlags.ASYNC) (default: ${DEFAULT-VALUE})")
    int iodepth = 1;

    @Option(names = "--baseline", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = {"add a column: the same writes straight to a fully written file with O_DIRECT from N threads of",
                "this process, no node: the device's limit in the same run (default: on; --no-baseline to skip)"})
    boolean baseline = true;

    @Option(names = "--json", paramLabel = "FILE", description = "write the results as JSON")
    Path json;

    @Option(names = "--png", paramLabel = "FILE", description = "draw IOPS against jobs, a line per policy")
    Path png;

    @Option(names = "--no-progress", description = "no progress bar on stderr")
    boolean noProgress;

    @Option(names = "--warmup", paramLabel = "S", description = "seconds of unmeasured load before the first run (default: ${DEFAULT-VALUE})")
    int warmup = 1;

    static final int DEFAULT_MAX_FILE_MIB_PER_5S = 2048;
    static final int MAX_DEFAULT_FILE_MIB = 8192;
    /** The baseline's preallocated file (the kernel anchor's raw runs used 1 GiB). Its jobs overwrite, wrapping. */
    static final long BASELINE_FILE_BYTES = 1L << 30;
    static final int MAX_RETRIES = 2;

    @Override
    public Integer call() throws Exception {
        List<SeedTest> tests = switch (test) {
            case "all" -> List.of(SeedTest.TEST1, SeedTest.TEST2);
            case "1" -> List.of(SeedTest.TEST1);
            case "2" -> List.of(SeedTest.TEST2);
            default -> throw new IllegalArgumentException("--test wants 1, 2 or all, got " + test);
        };
        List<LockPolicy> pols = policies.stream().map(LockPolicy::parse).distinct().toList();
        nodeOptions.check();
        if (duration < 1 || iodepth < 1 || warmup < 0 || jobs.isEmpty() || jobs.stream().anyMatch(count -> count < 1)) {
            throw new IllegalArgumentException("--duration, --iodepth and --jobs must be positive");
        }
        long maxFile = (maxFileMib != null ? maxFileMib
                : Math.min(MAX_DEFAULT_FILE_MIB, (long) DEFAULT_MAX_FILE_MIB_PER_5S * Math.max(5, duration) / 5)) << 20;
        RegionPlanner planner = new RegionPlanner(regionMib, maxFile, duration);
        long largest = 0;
        for (int j : jobs) {
            largest = Math.max(largest, planner.max(j) * j);
        }
        List<Report.Row> measured = new ArrayList<>();
        int steps = tests.size() * jobs.size() * (pols.size() + (baseline ? 1 : 0));
        try (Target node = nodeOptions.remote() ? nodeOptions.open(largest) : startEmbedded(largest);
                Baseline raw = baseline ? Baseline.create(nodeOptions.dir(), Math.min(BASELINE_FILE_BYTES, largest)) : null;
                NodeClient control = node.connect();
                ProgressBar bar = progress(steps)) {
            if (nodeOptions.remote()) {
                checkRemoteSpace(control, largest);
            }
            if (warmup > 0) {
                message(bar, "warm-up");
                warmUp(node, control);
            }
            for (SeedTest t : tests) {
                for (int j : jobs) {
                    long used = 0;
                    for (LockPolicy p : pols) {
                        long region = planner.region(t, p.cliName(), j, measured);
                        Report.Row row = null;
                        for (int attempt = 0; ; attempt++) {
                            message(bar, "test " + t.number() + " " + p.cliName() + " j" + j + (attempt > 0 ? " (again)" : ""));
                            row = nodeRun(node, control, t, p, j, region, bar);
                            long bigger = planner.grow(t, region, j, row.iops());
                            if (row.exhaustedJobs() == 0 || bigger < 0 || attempt == MAX_RETRIES) {
                                if (row.exhaustedJobs() > 0) {
                                    System.err.printf("%nload-gen: warning: test %d %s jobs=%d: %d job(s) reached the end of their"
                                            + " %d MiB region before %d s; raise --max-file-mib%n", t.number(), p.cliName(), j,
                                            row.exhaustedJobs(), region >> 20, duration);
                                }
                                break;
                            }
                            System.err.printf("%nload-gen: test %d %s jobs=%d reached the end of its %d MiB regions at %,.0f IOPS;"
                                    + " again with %d MiB%n", t.number(), p.cliName(), j, region >> 20, row.iops(), bigger >> 20);
                            region = bigger;
                        }
                        measured.add(row);
                        used = Math.max(used, region);
                        step(bar);
                    }
                    if (raw != null) {
                        message(bar, "test " + t.number() + " baseline j" + j);
                        long region = Math.min(used > 0 ? used : planner.max(j),
                                raw.bytes() / j / RegionPlanner.MIB * RegionPlanner.MIB);
                        LoadEngine.Result res = raw.run(t, j, region, TimeUnit.SECONDS.toNanos(duration));
                        measured.add(row(t, Report.BASELINE, j, res, 0, region));
                        step(bar);
                    }
                }
            }
        }
        List<Report.Row> rows = ordered(measured, tests, jobs, pols);
        Report.tables(System.out, rows, duration, iodepth);
        if (json != null) {
            Report.writeJson(json, rows);
        }
        if (png != null) {
            Report.writePng(png, rows);
        }
        return rows.stream().anyMatch(row -> row.errors() > 0) ? 1 : 0;
    }

    /** Rows in table order: test, jobs, then policies as given, then the baseline. */
    static List<Report.Row> ordered(List<Report.Row> rows, List<SeedTest> tests, List<Integer> jobs, List<LockPolicy> pols) {
        List<Report.Row> out = new ArrayList<>();
        for (SeedTest t : tests) {
            for (int j : jobs.stream().distinct().toList()) {
                for (LockPolicy p : pols) {
                    lastOf(rows, t, j, p.cliName()).ifPresent(out::add);
                }
                lastOf(rows, t, j, Report.BASELINE).ifPresent(out::add);
            }
        }
        return out;
    }

    /** The last row measured for a test, job count and column (a run repeated with a bigger region counts once). */
    private static Optional<Report.Row> lastOf(List<Report.Row> rows, SeedTest test, int jobs, String column) {
        return rows.stream().filter(row -> row.test() == test.number() && row.jobs() == jobs && row.policy().equals(column))
                .reduce((earlier, later) -> later);
    }

    /** A little unmeasured load of both tests so the first measured run does not pay for JIT compilation. */
    private void warmUp(Target node, NodeClient control) throws IOException, InterruptedException {
        for (SeedTest t : SeedTest.values()) {
            int warmJobs = 2;
            long region = 16 * RegionPlanner.MIB;
            String name = "load-gen-warmup-t" + t.number() + "-" + ProcessHandle.current().pid();
            Layouts.removeQuietly(control, name);
            Layouts.awaitFreeBlocks(control, (2 * region + region / 16) / SeedTest.BLOCK, 10_000);
            FileId file = Layouts.buildVerified(node, control, name, LockPolicy.ZEROING_AWARE, t, region * warmJobs);
            LoadEngine.Spec spec = LoadEngine.Spec.closed(file, warmJobs, 1, false, TimeUnit.MILLISECONDS.toNanos(warmup * 500L),
                    t.writeBytes(), 0, 0, true, 4, job -> OffsetSource.seed(t, job * region, region));
            new LoadEngine(spec).run(node, TimeUnit.SECONDS.toNanos(30));
            Layouts.remove(control, name);
        }
    }

    private Target startEmbedded(long largestFile) throws IOException {
        System.err.printf("load-gen: starting an embedded node on a %d MiB device in %s (largest file %d MiB)%n",
                Target.deviceBytesFor(largestFile) >> 20, nodeOptions.dir().toAbsolutePath().normalize(), largestFile >> 20);
        return nodeOptions.open(largestFile);
    }

    private static void checkRemoteSpace(NodeClient control, long largest) {
        Long free = control.stats().toCompletableFuture().join().get("free_blocks");
        if (free != null && free * 4096 < largest + largest / 32) {
            throw new IllegalArgumentException("the node has " + (free * 4096 >> 20) + " MiB free, the largest file needs "
                    + (largest >> 20) + " MiB: lower --region-mib or --max-file-mib");
        }
    }

    private Report.Row nodeRun(Target node, NodeClient control, SeedTest test, LockPolicy policy, int jobs, long region,
            ProgressBar bar) throws IOException, InterruptedException {
        String name = "load-gen-seed-t" + test.number() + "-" + policy.cliName() + "-j" + jobs + "-" + ProcessHandle.current().pid();
        long fileBytes = region * jobs;
        Layouts.removeQuietly(control, name);
        long t0 = System.nanoTime();
        Layouts.awaitFreeBlocks(control, (fileBytes + fileBytes / 32) / SeedTest.BLOCK, 10_000);
        long t1 = System.nanoTime();
        FileId file = Layouts.buildVerified(node, control, name, policy, test, fileBytes);
        double layoutS = (System.nanoTime() - t0) / 1e9;
        message(bar, "test " + test.number() + " " + policy.cliName() + " j" + jobs + " (run)");
        LoadEngine.Spec spec = LoadEngine.Spec.closed(file, jobs, iodepth, iodepth > 1, TimeUnit.SECONDS.toNanos(duration),
                test.writeBytes(), 0, 0, true, iodepth + 2, job -> OffsetSource.seed(test, job * region, region));
        LoadEngine.Result res = new LoadEngine(spec).run(node, TimeUnit.SECONDS.toNanos(60));
        long t2 = System.nanoTime();
        Layouts.remove(control, name);
        if (Layouts.DEBUG) {
            System.err.printf("%nrun %s: waited for free blocks %.2f s, layout %.2f s, run %.2f s, remove %.2f s%n", name,
                    (t1 - t0) / 1e9, layoutS - (t1 - t0) / 1e9, res.wallNanos() / 1e9, (System.nanoTime() - t2) / 1e9);
        }
        if (res.errors() > 0) {
            System.err.printf("%nload-gen: test %d %s jobs=%d: %d errors, first: %s%n", test.number(), policy.cliName(), jobs,
                    res.errors(), res.firstError());
        }
        return row(test, policy.cliName(), jobs, res, layoutS, region);
    }

    static Report.Row row(SeedTest test, String policy, int jobs, LoadEngine.Result res, double layoutS, long region) {
        Histogram latency = res.latencyNanos();
        double p50 = latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(50) / 1e3;
        double p99 = latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(99) / 1e3;
        return new Report.Row(test.number(), policy, jobs, res.iops(), p50, p99, res.errors(), res.eagain(), res.wallNanos() / 1e9,
                layoutS, region, res.exhaustedJobs());
    }

    private ProgressBar progress(int steps) {
        if (noProgress) {
            return null;
        }
        boolean tty = System.console() != null;
        return new ProgressBarBuilder().setTaskName("seed").setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .setUpdateIntervalMillis(tty ? 500 : 10_000).build();
    }

    private static void message(ProgressBar bar, String text) {
        if (bar != null) {
            bar.setExtraMessage(text);
        }
    }

    private static void step(ProgressBar bar) {
        if (bar != null) {
            bar.step();
        }
    }
}
