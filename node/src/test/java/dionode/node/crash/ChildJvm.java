package dionode.node.crash;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running a main class of the test tree, whose stdout lines the parent collects as
 * they are flushed (so every line written before a SIGKILL is seen), and which the parent kills
 * with {@link #kill()} ({@code Process.destroyForcibly()}: SIGKILL on Linux). Thread-safe.
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final Thread pump;

    private ChildJvm(Process process) {
        this.process = process;
        this.pump = new Thread(this::pump, "child-stdout-" + process.pid());
        this.pump.setDaemon(true);
        this.pump.start();
    }

    public static ChildJvm start(Class<?> main, Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx384m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return new ChildJvm(pb.start());
    }

    private static String copiedClassPath;

    /**
     * The test class path with its directories (target/classes, target/test-classes) copied once
     * per JVM: other builds in the same tree may recompile them while a child is loading classes.
     */
    static synchronized String classPath() throws IOException {
        if (copiedClassPath == null) {
            Path root = Fixture.dir().resolve("child-classpath-" + ProcessHandle.current().pid());
            List<String> out = new ArrayList<>();
            int i = 0;
            for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                Path p = Path.of(e);
                if (java.nio.file.Files.isDirectory(p)) {
                    Path copy = root.resolve(Integer.toString(i++));
                    copyTree(p, copy);
                    out.add(copy.toString());
                } else {
                    out.add(e);
                }
            }
            copiedClassPath = String.join(java.io.File.pathSeparator, out);
        }
        return copiedClassPath;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (java.util.stream.Stream<Path> walk = java.nio.file.Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (java.nio.file.Files.isDirectory(p)) {
                    java.nio.file.Files.createDirectories(t);
                } else {
                    java.nio.file.Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (lines) {
                    lines.add(line);
                }
                queue.add(line);
            }
        } catch (IOException e) {
            // the child died: what was flushed is in lines
        }
        queue.add("\u0000EOF");
    }

    /** Waits for a line starting with {@code prefix}; null if the child exits or the time is up. */
    public String await(String prefix, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            String l = queue.poll(left, TimeUnit.NANOSECONDS);
            if (l == null || l.equals("\u0000EOF")) {
                return null;
            }
            if (l.startsWith(prefix)) {
                return l;
            }
        }
    }

    /**
     * SIGKILL, then waits for the process to be gone and for every line it wrote to be read (the
     * judge of a crash must see the whole log, or newer data looks stale).
     *
     * @throws IllegalStateException if the process or its output did not end within a minute each
     */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("child " + process.pid() + " still alive a minute after SIGKILL");
        }
        pump.join(60_000);
        if (pump.isAlive()) {
            throw new IllegalStateException("the output of child " + process.pid() + " was not read to its end");
        }
    }

    /** SIGTERM, then the exit status once the process is gone; -1 if it is still alive a minute later. */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            return -1;
        }
        pump.join(10_000);
        return process.exitValue();
    }

    /** The exit status once the process ends by itself (no signal sent); -1 if it is still alive after the timeout. */
    public int exitStatus(long timeoutMillis) throws InterruptedException {
        if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
            return -1;
        }
        pump.join(10_000);
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** Every line read so far. */
    public List<String> lines() {
        synchronized (lines) {
            return new ArrayList<>(lines);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
