package dionode.loadgen.soak;

import dionode.cli.option.SizeConverter;
import dionode.protocol.util.Sizes;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code load-gen soak}: issue 10's soak. Verified traffic, unlink churn, full-device cycles,
 * fuzzed frames and slow peers at once against a node (by default one of its own, in a JVM of its
 * own with a bounded heap on a small device), its RSS sampled every second; then SIGTERM (exit 0),
 * fsck (clean), a restart, and every acknowledged byte read back. Prints a summary; exit 0 only on
 * PASS. Confined to the command's thread apart from the activities' own.
 */
@Command(name = "soak", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Soak a node with verified traffic, unlink churn, full-device cycles, fuzzed frames and slow peers at",
            "once; sample its RSS; then SIGTERM it (exit 0), fsck its device (clean), restart it and read back every",
            "acknowledged byte. Without --target it starts its own node (dionode serve in a JVM of its own) on a new",
            "device in --dir. Exit 0 only on PASS."})
public final class SoakCommand implements Callable<Integer> {
    /** RSS beside the heap and direct memory: metaspace, code cache, thread stacks, GC structures. */
    static final long JVM_OVERHEAD_MIB = 256;

    @Option(names = "--duration", paramLabel = "S", description = "seconds of traffic (default: ${DEFAULT-VALUE})")
    int duration = 600;

    @Option(names = "--device-size", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "size of the own node's device, small so that it really fills up (default: 256m)")
    long deviceSize = 256L << 20;

    @Option(names = "--target", paramLabel = "HOST:PORT", description = "soak a running node instead (no restart, no fsck)")
    String target;

    @Option(names = "--node-pid", paramLabel = "PID", description = "with --target: the node's process, for its RSS and liveness")
    Long nodePid;

    @Option(names = "--dir", paramLabel = "DIR", description = "where the own node's device and log go (default: .)")
    Path dir = Path.of(".");

    @Option(names = "--seed", paramLabel = "N", description = "seed of every random choice (default: ${DEFAULT-VALUE})")
    long seed = 1;

    @Option(names = "--writers", paramLabel = "N", description = "verified writers, a file and a connection each (default: ${DEFAULT-VALUE})")
    int writers = 4;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the summary as JSON")
    Path json;

    @Option(names = "--node-java-opts", paramLabel = "OPTS",
            description = "JVM options of the own node (default: $DIONODE_JAVA_OPTS, else -Xmx512m)")
    String nodeJavaOpts;

    @Option(names = "--frame-timeout", paramLabel = "S", description = "the own node's --frame-timeout; with --target, the node's (default: 10, with --target 30)")
    Integer frameTimeout;

    @Option(names = "--reply-timeout", paramLabel = "S", description = "longest a request may go unanswered before it counts as a hang (default: ${DEFAULT-VALUE})")
    int replyTimeout = 60;

    @Option(names = "--rss-bound", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "largest RSS allowed (default for the own node: heap + direct memory limit + " + JVM_OVERHEAD_MIB + " MiB)")
    Long rssBound;

    @Option(names = "--keep-device", description = "keep the own node's device and log after a PASS too")
    boolean keepDevice;

    @Override
    public Integer call() throws Exception {
        if (duration < 1 || writers < 1 || replyTimeout < 1 || deviceSize < (64L << 20) || (frameTimeout != null && frameTimeout < 1)) {
            throw new IllegalArgumentException("--duration, --writers, --reply-timeout, --frame-timeout must be positive, --device-size at least 64m");
        }
        if (nodePid != null && target == null) {
            throw new IllegalArgumentException("--node-pid goes with --target");
        }
        Duration frame = Duration.ofSeconds(frameTimeout != null ? frameTimeout : target != null ? 30 : 10);
        List<String> opts = javaOpts();
        long self = ProcessHandle.current().pid();
        Path device = dir.resolve("soak-device-" + self + ".img").toAbsolutePath();
        Path log = dir.resolve("soak-node-" + self + ".log").toAbsolutePath();
        SoakReport.Builder report = new SoakReport.Builder(seed, writers, duration);
        NodeProcess node = null;
        String host = "127.0.0.1";
        int port;
        long pid;
        if (target == null) {
            Files.deleteIfExists(device);
            Files.deleteIfExists(log);
            node = NodeProcess.serve(opts, device, deviceSize, frame, log);
            port = node.port();
            pid = node.pid();
            NodeProcess.StatedMemory stated = NodeProcess.statedMemory(log);
            long heap = stated != null ? stated.heapMib() : optionMib(opts, "-Xmx", 0);
            long direct = optionMib(opts, "-XX:MaxDirectMemorySize=", heap); // the JVM's default is the heap's maximum
            long bound = rssBound != null ? rssBound >> 10 : (heap + direct + JVM_OVERHEAD_MIB) << 10;
            report.node("own node, pid " + pid + ", " + String.join(" ", opts) + ", device " + device + " (" + (deviceSize >> 20)
                    + " MiB), 127.0.0.1:" + port + ", frame timeout " + frame.toSeconds() + " s, log " + log, true)
                    .memory(stated, bound, rssBound != null ? "--rss-bound" : "heap " + heap + " MiB + direct memory "
                            + direct + " MiB + " + JVM_OVERHEAD_MIB + " MiB for the rest of the JVM");
        } else {
            int i = target.lastIndexOf(':');
            if (i <= 0) {
                throw new IllegalArgumentException("--target wants HOST:PORT, got '" + target + "'");
            }
            host = target.substring(0, i);
            port = Integer.parseInt(target.substring(i + 1));
            pid = nodePid != null ? nodePid : -1;
            report.node("node at " + target + (pid > 0 ? ", pid " + pid : "") + ", its frame timeout taken as " + frame.toSeconds() + " s",
                    false)
                    .memory(null, rssBound != null ? rssBound >> 10 : -1, rssBound != null ? "--rss-bound" : "none given");
        }
        NodeProcess own = node;
        long dataBytes = dataBytes(host, port);
        SoakContext ctx = new SoakContext(host, port, seed, dataBytes, Duration.ofSeconds(duration), Duration.ofSeconds(replyTimeout), frame);
        Sampler sampler = new Sampler(ctx, pid, own != null ? own::isAlive
                : pid > 0 ? () -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) : () -> true).start();
        long t0 = System.nanoTime();
        runAll(ctx, activities(dataBytes, own != null ? NodeProcess.inodes(log) : 0));
        report.traffic((System.nanoTime() - t0) / 1e9);
        if (!sampler.died()) {
            try (NodeClient c = ctx.connect()) {
                ReadBack.filesCounted(ctx, c);
            }
        }
        sampler.stop();
        report.sampled(sampler);
        Set<String> others = Set.of(Fuzzer.TARGET);
        if (own != null && !sampler.died()) {
            report.stopped(own.terminate(Duration.ofSeconds(120)));
            report.fsck(NodeProcess.fsck(opts, device, log));
            restartAndReadBack(ctx, report, opts, device, frame, log, others);
        } else if (own == null) {
            try (NodeClient c = ctx.connect()) {
                report.readBack(ReadBack.verify(ctx, c, others));
                for (String name : ctx.models().keySet()) {
                    Answer.await(c.unlink(name), ctx.replyTimeout());
                }
                Answer.await(c.unlink(Fuzzer.TARGET), ctx.replyTimeout());
            }
        }
        if (own != null) {
            report.warnings(NodeProcess.warnings(log));
        }
        SoakReport r = report.build(ctx.tally());
        r.print(System.out);
        if (json != null) {
            Files.writeString(json, r.json(), StandardCharsets.UTF_8);
        }
        if (own != null && r.pass() && !keepDevice) {
            Files.deleteIfExists(device);
            Files.deleteIfExists(log);
        } else if (own != null) {
            System.out.println("kept for a look: " + device + " and " + log);
        }
        return r.pass() ? 0 : 1;
    }

    private void restartAndReadBack(SoakContext ctx, SoakReport.Builder report, List<String> opts, Path device, Duration frame, Path log,
            Set<String> others) throws InterruptedException {
        NodeProcess again;
        try {
            again = NodeProcess.serve(opts, device, deviceSize, frame, log);
        } catch (IOException e) {
            ctx.fail("the node did not start again on its device: " + e.getMessage());
            return;
        }
        try (NodeClient c = ctx.connect(again.port())) {
            report.readBack(ReadBack.verify(ctx, c, others));
            StaleAfterRestart.check(ctx, c);
        } catch (IOException e) {
            ctx.fail("could not connect to the restarted node: " + e);
        } finally {
            report.restartStopped(again.terminate(Duration.ofSeconds(120)));
        }
    }

    private List<Activity> activities(long dataBytes, long inodes) {
        long fileBytes = Math.max(1 << 20, Math.min(8 << 20, dataBytes / 32)) / FileModel.BLOCK * FileModel.BLOCK;
        List<Activity> all = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            all.add(new VerifiedWriter(i, fileBytes));
        }
        all.add(new UnlinkChurn(inodes));
        all.add(new FullDevice(fileBytes));
        all.add(new Fuzzer());
        for (int i = 0; i < 3; i++) {
            all.add(new SlowPeers(true, i));
        }
        all.add(new SlowPeers(false, 0));
        return all;
    }

    /** Every activity on a thread of its own; an activity that throws, or does not end in time, fails the soak. */
    private void runAll(SoakContext ctx, List<Activity> activities) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (Activity a : activities) {
            Thread t = new Thread(() -> {
                try {
                    a.run(ctx);
                } catch (Exception | Error e) {
                    ctx.fail(a.name() + " stopped: " + e);
                }
            }, "soak-" + a.name());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        long grace = 4L * ctx.replyTimeout().toMillis() + 120_000;
        long deadline = System.currentTimeMillis() + duration * 1000L + grace;
        for (Thread t : threads) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
            if (t.isAlive()) {
                String at = Arrays.toString(t.getStackTrace());
                ctx.fail(t.getName() + " did not end " + grace / 1000 + " s after the traffic, at " + at.substring(0, Math.min(400, at.length())));
                t.interrupt();
            }
        }
        ctx.stop();
    }

    /** What the device holds for files: its free blocks now (the soak's filler's model is that big). */
    private static long dataBytes(String host, int port) throws IOException {
        try (NodeClient c = NodeClient.connect(host, port)) {
            Map<String, Long> st = c.stats().toCompletableFuture().join();
            Long free = st.get("free_blocks");
            if (free == null) {
                throw new IOException("the node's stats have no free_blocks");
            }
            return (free + 256) * FileModel.BLOCK;
        }
    }

    private List<String> javaOpts() {
        String s = nodeJavaOpts != null ? nodeJavaOpts : System.getenv("DIONODE_JAVA_OPTS");
        if (s == null || s.isBlank()) {
            s = "-Xmx512m";
        }
        return List.of(s.trim().split("\\s+"));
    }

    /** The size a JVM option such as {@code -Xmx} gives, in MiB (the last one counts), or {@code orElse}. */
    static long optionMib(List<String> opts, String prefix, long orElse) {
        long mib = orElse;
        for (String o : opts) {
            if (o.startsWith(prefix) && o.substring(prefix.length()).matches("\\d+[kKmMgG]?")) {
                mib = Sizes.parse(o.substring(prefix.length())) >> 20;
            }
        }
        return mib;
    }
}
