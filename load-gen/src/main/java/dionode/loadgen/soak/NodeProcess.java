package dionode.loadgen.soak;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.stream.Collectors;

/**
 * {@code dionode serve} (and {@code dionode fsck}) in a JVM of its own: the node's command line
 * ({@link dionode.cli.Main}) from this JVM's class path, which is the code {@code ./dionode}
 * runs, with the given JVM options (the heap bound among them). Its stderr (the node's log, at
 * INFO) is appended to a log file; {@code serve}'s stdout is read for {@code listening on}.
 * Thread-safe.
 */
final class NodeProcess {
    /** The node's start line, DESIGN §6's worst case: "... at most X MiB of the Y MiB heap". */
    private static final java.util.regex.Pattern WORST_CASE = java.util.regex.Pattern.compile("at most (\\d+) MiB of the (\\d+) MiB heap");

    /** The node's format line: "formatted DEVICE: N blocks, M inodes, ...". */
    private static final java.util.regex.Pattern FORMATTED = java.util.regex.Pattern.compile("formatted .*: \\d+ blocks, (\\d+) inodes");

    private final Process process;
    private final int port;

    private NodeProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** What the node said of its memory at start: DESIGN §6's wire worst case and the heap, MiB. */
    record StatedMemory(long worstCaseMib, long heapMib) {
    }

    /** What a finished command left: exit status and stdout. */
    record Finished(int exit, String stdout) {
    }

    /**
     * Starts {@code serve} on {@code device} (created at {@code size} if missing), with {@code
     * serveOptions} after the soak's own, and waits for it to listen.
     */
    static NodeProcess serve(List<String> javaOpts, Path device, long size, Duration frameTimeout, Path log, String... serveOptions)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("serve", "--device", device.toString(), "--size", Long.toString(size), "--host",
                "127.0.0.1", "--port", "0", "--frame-timeout", frameTimeout.toMillis() + "ms",
                // the soak's few connections in a 512 MiB heap: the wire's worst case must fit it, as the soak checks
                "--max-connections", "256"));
        args.addAll(List.of(serveOptions));
        Process p = start(javaOpts, log, args.toArray(new String[0]));
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        Thread pump = new Thread(() -> pump(p, log, listening), "soak-node-stdout");
        pump.setDaemon(true);
        pump.start();
        try {
            return new NodeProcess(p, listening.get(180, TimeUnit.SECONDS));
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IOException("dionode serve did not start listening (exit " + (p.isAlive() ? "none yet" : p.exitValue())
                    + "); its log: " + log + tail(log), e);
        }
    }

    /** Runs {@code fsck --device D --json} and waits for it. */
    static Finished fsck(List<String> javaOpts, Path device, Path log) throws IOException, InterruptedException {
        Process p = start(javaOpts, log, "fsck", "--device", device.toString(), "--json");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Finished(-1, out);
        }
        return new Finished(p.exitValue(), out);
    }

    private static Process start(List<String> javaOpts, Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(javaOpts);
        cmd.add("-cp");
        cmd.add(mainClassPath());
        cmd.add(dionode.cli.Main.class.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("DIONODE_LOG_LEVEL", "INFO"); // the worst-case memory line is INFO
        pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return pb.start();
    }

    /**
     * This JVM's class path without test classes and test jars: under a test runner they hold the
     * tests' logback configuration (WARN only), and the node must run as {@code ./dionode} runs it.
     */
    private static String mainClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.endsWith("-tests.jar") && !entry.endsWith("test-classes"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    private static void pump(Process p, Path log, CompletableFuture<Integer> listening) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("listening on ")) {
                    listening.complete(Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).trim()));
                }
            }
        } catch (IOException | RuntimeException e) {
            listening.completeExceptionally(e);
        }
        listening.completeExceptionally(new IOException("serve ended its output without 'listening on'"));
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM, then the exit status; -1 (and SIGKILL) when it has not exited within {@code limit}. */
    int terminate(Duration limit) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            return -1;
        }
        return process.exitValue();
    }

    /** The figure the node logged at start, from its log; null when the line is missing. */
    static StatedMemory statedMemory(Path log) throws IOException {
        StatedMemory found = null;
        for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            Matcher m = WORST_CASE.matcher(l);
            if (m.find()) {
                found = new StatedMemory(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
            }
        }
        return found;
    }

    /** The inode table's size, from the node's format line in its log; 0 when it is not there. */
    static long inodes(Path log) throws IOException {
        for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            Matcher m = FORMATTED.matcher(l);
            if (m.find()) {
                return Long.parseLong(m.group(1));
            }
        }
        return 0;
    }

    /** The log's WARN and ERROR lines (the node's own: Pekko logs at WARN and above too). */
    static List<String> warnings(Path log) throws IOException {
        return Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "\n  " + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }
}
