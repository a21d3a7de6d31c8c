package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.TestJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code load-gen run} against an embedded node for 2 s: its node cpu line and the JSON's node_cpu, node_cpu_threads. */
class RunNodeCpuTest {
    /** The report's line, the contract: {@code node cpu: N µs/request (user U µs, sys S µs), V voluntary + I involuntary ...}. */
    static final Pattern LINE = Pattern.compile("node cpu: (\\d+\\.\\d) µs/request \\(user (\\d+\\.\\d) µs, sys (\\d+\\.\\d) µs\\), "
            + "(\\d+\\.\\d\\d) voluntary \\+ (\\d+\\.\\d\\d) involuntary context switches/request \\((pid \\d+|embedded)\\)");

    /** load-gen's own line: {@code load-gen cpu: N µs/request (user U µs, sys S µs), ... (job and client reader threads)}. */
    static final Pattern LOAD_GEN_LINE = Pattern.compile("load-gen cpu: (\\d+\\.\\d) µs/request \\(user (\\d+\\.\\d) µs, sys (\\d+\\.\\d) µs\\), "
            + "(\\d+\\.\\d\\d) voluntary \\+ (\\d+\\.\\d\\d) involuntary context switches/request \\(job and client reader threads\\)");

    @Test
    void anEmbeddedNodesCpuPerRequestIsReportedAndWrittenAsJson(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("run.json");
        String out = CommandsTest.runCli("run", "--embedded", "--dir", "target", "--duration", "2", "--jobs", "2", "--region-mib", "8",
                "--json", json.toString());
        Matcher m = LINE.matcher(out);
        assertTrue(m.find(), out);
        assertEquals("embedded", m.group(6), out);
        assertTrue(Double.parseDouble(m.group(1)) > 0, out);
        assertTrue(Double.parseDouble(m.group(4)) > 0, "a sync request waits somewhere in the node: " + out);

        Map<String, Object> top = TestJson.object(Files.readString(json));
        long requests = (Long) top.get("requests_completed");
        assertEquals(top.get("requests_ok"), requests, out);
        assertTrue(requests > 0, out);
        Map<?, ?> cpu = (Map<?, ?>) top.get("node_cpu");
        assertEquals("embedded", cpu.get("source"));
        assertEquals(ProcessHandle.current().pid(), cpu.get("pid"));
        double perRequest = num(cpu, "us_per_request");
        assertTrue(perRequest > 0, cpu.toString());
        assertEquals(Double.parseDouble(m.group(1)), perRequest, 0.051, "the line and the JSON say the same");
        assertEquals(num(cpu, "user_us_per_request") + num(cpu, "sys_us_per_request"), perRequest, 0.002, cpu.toString());
        assertEquals(num(cpu, "us") / requests, perRequest, 0.001, cpu.toString());

        Matcher own = LOAD_GEN_LINE.matcher(out);
        assertTrue(own.find(), out);
        Map<?, ?> loadGen = (Map<?, ?>) top.get("loadgen_cpu");
        assertTrue(num(loadGen, "us_per_request") > 0, "the jobs encode and send every request: " + loadGen);
        assertEquals(Double.parseDouble(own.group(1)), num(loadGen, "us_per_request"), 0.051, "the line and the JSON say the same");
        assertTrue(num(loadGen, "threads") >= 2, "both jobs are counted: " + loadGen);
        assertFalse(out.contains("load-gen cpu: 1 of") || out.contains("load-gen cpu: 2 of"),
                "the job threads live until the meter's last sample has seen them: " + out);

        Map<?, ?> threads = (Map<?, ?>) top.get("node_cpu_threads");
        assertEquals(List.of("io", "aio", "dispatcher", "conn", "journal", "other"), List.copyOf(threads.keySet()), threads.toString());
        assertFalse(threads.containsKey("jvm"), "the JVM's threads are load-gen's too: not counted when embedded");
        long sum = threads.values().stream().mapToLong(g -> ((Number) ((Map<?, ?>) g).get("us")).longValue()).sum();
        assertEquals(((Number) cpu.get("us")).longValue(), sum, "embedded: the node's CPU is its threads' " + threads);
        assertEquals(cpu.get("us"), cpu.get("threads_us"), cpu.toString());
        // the event loop reads the socket, runs the actors and reaps the write's completion: the node's time is the loop's,
        // and no reader or completion thread is woken for a request
        assertTrue(num((Map<?, ?>) threads.get("dispatcher"), "us") >= 0.8 * num(cpu, "us"), "the loop does the work: " + threads);
        for (String g : List.of("aio", "conn")) {
            assertTrue(num((Map<?, ?>) threads.get(g), "vcsw_per_request") < 0.1, "no request wakes a " + g + " thread: " + threads);
        }
    }

    static double num(Map<?, ?> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }
}
