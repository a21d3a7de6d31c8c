package dionode.loadgen.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.TestJson;
import dionode.loadgen.LoadGen;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code load-gen run --node-pid} for 2 s against {@code dionode serve} in a JVM of its own (started
 * as the soak starts it, hence this package): the node's process is measured, all its threads.
 */
class RunNodePidTest {
    private static final Pattern LINE = Pattern.compile("node cpu: (\\d+\\.\\d) µs/request \\(user \\d+\\.\\d µs, sys \\d+\\.\\d µs\\), "
            + "(\\d+\\.\\d\\d) voluntary \\+ \\d+\\.\\d\\d involuntary context switches/request \\(pid (\\d+)\\)");

    @Test
    void aNodeProcesssCpuPerRequestIsReportedAndWrittenAsJson(@TempDir Path tmp) throws Exception {
        Path device = Path.of("target", "run-node-pid-" + ProcessHandle.current().pid() + ".img").toAbsolutePath();
        Files.deleteIfExists(device);
        // a loop that sleeps as soon as it is idle: each sync request then wakes it (a spinning loop is rarely woken)
        NodeProcess node = NodeProcess.serve(List.of("-Xmx256m"), device, 128L << 20, Duration.ofSeconds(10), tmp.resolve("node.log"),
                "--loop-spin", "0");
        String out;
        int exit;
        Path json = tmp.resolve("run.json");
        try {
            PrintStream old = System.out;
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            try {
                exit = new CommandLine(new LoadGen()).execute("run", "--target", "127.0.0.1:" + node.port(), "--node-pid",
                        Long.toString(node.pid()), "--duration", "2", "--region-mib", "8", "--json", json.toString());
            } finally {
                System.setOut(old);
            }
            out = buf.toString(StandardCharsets.UTF_8);
        } finally {
            assertEquals(0, node.terminate(Duration.ofSeconds(60)), "the node stopped cleanly");
            Files.deleteIfExists(device);
        }
        assertEquals(0, exit, out);
        Matcher m = LINE.matcher(out);
        assertTrue(m.find(), out);
        assertEquals(node.pid(), Long.parseLong(m.group(3)), out);
        assertTrue(Double.parseDouble(m.group(1)) > 0, out);
        // summed over the node's threads: /proc/PID/status alone holds its main thread's, which only waits
        assertTrue(Double.parseDouble(m.group(2)) >= 0.5, "each sync request wakes the node's threads: " + out);

        Map<String, Object> top = TestJson.object(Files.readString(json));
        Map<?, ?> cpu = (Map<?, ?>) top.get("node_cpu");
        assertEquals("pid", cpu.get("source"));
        assertEquals(node.pid(), cpu.get("pid"));
        assertTrue(((Number) cpu.get("us_per_request")).doubleValue() > 0, cpu.toString());
        assertTrue((Long) cpu.get("threads_us") > 0, cpu.toString());
        Map<?, ?> threads = (Map<?, ?>) top.get("node_cpu_threads");
        assertEquals(List.of("io", "aio", "dispatcher", "conn", "journal", "other", "jvm"), List.copyOf(threads.keySet()), threads.toString());
        long conn = ((Number) ((Map<?, ?>) threads.get("conn")).get("threads")).longValue();
        assertEquals(0, conn, "the event loop reads every connection: no reader thread of its own " + threads);
        long dispatcher = ((Number) ((Map<?, ?>) threads.get("dispatcher")).get("us")).longValue();
        assertTrue(dispatcher > 0, "the loop ran the requests: " + threads);
    }
}
