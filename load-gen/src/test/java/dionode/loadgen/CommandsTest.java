package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.TestJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Tiny end-to-end runs of both commands against an embedded node. */
class CommandsTest {
    static String runCli(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int rc = new CommandLine(new LoadGen()).execute(args);
            assertEquals(0, rc, "exit status of " + String.join(" ", args) + "\n" + buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void seedPrintsARowPerPolicyAndWritesJson(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("r.json");
        String out = runCli("seed", "--embedded", "--dir", "target", "--jobs", "1", "--duration", "1", "--region-mib", "4",
                "--warmup", "0", "--no-progress", "--json", json.toString());
        for (String t : List.of("Test 1:", "Test 2:")) {
            assertTrue(out.contains(t), out);
        }
        List<String> rows = out.lines().filter(l -> l.matches("1\\s+[\\d,]+\\s+[\\d,]+\\s+[\\d,]+\\s+\\d+\\.\\d\\dx\\s+[\\d,]+")).toList();
        assertEquals(2, rows.size(), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("JOBS\\s+overwrite-check\\s+aligned-shared\\s+zeroing-aware\\s+speedup\\s+baseline")));
        Map<?, ?> top = (Map<?, ?>) TestJson.parse(Files.readString(json));
        List<?> results = (List<?>) top.get("results");
        assertEquals(8, results.size(), "2 tests x (3 policies + baseline)");
        for (Object o : results) {
            Map<?, ?> r = (Map<?, ?>) o;
            assertTrue(((Number) r.get("iops")).doubleValue() > 0, r.toString());
            assertEquals(0L, r.get("errors"), r.toString());
        }
        // nothing but tables on stdout: no log lines
        assertTrue(out.lines().noneMatch(l -> l.contains("INFO") || l.contains("WARN")), out);
    }

    @Test
    void runCountsNowaitRefusalsAndRetriesThem() {
        // Test 2 writes under overwrite-check need the exclusive lock: every NOWAIT attempt is refused
        String out = runCli("run", "--embedded", "--dir", "target", "--layout", "test2", "--policy", "overwrite-check", "--bs",
                "14336", "--stride", "16k", "--align-offset", "512", "--nowait-pct", "100", "--jobs", "2", "--duration", "1",
                "--region-mib", "64"); // 4096 stripes per job: no job wraps round to stripes already written in 1 s
        Matcher m = Pattern.compile("result: ([\\d,]+) requests ok .* errors (\\d+), EAGAIN (\\d+)").matcher(out);
        assertTrue(m.find(), out);
        long ok = Long.parseLong(m.group(1).replace(",", ""));
        assertTrue(ok > 0, out);
        assertEquals("0", m.group(2), out);
        assertEquals(ok, Long.parseLong(m.group(3)), "each write refused once, then retried without NOWAIT\n" + out);
        assertTrue(out.contains("write_exclusive"), out);
        Matcher why = Pattern.compile("EAGAIN by reason \\(the node's count\\): lock (\\d+), alloc (\\d+), cache (\\d+), journal (\\d+)")
                .matcher(out);
        assertTrue(why.find(), out);
        assertEquals(m.group(3), why.group(1), "every refusal was for the exclusive lock\n" + out);
        assertEquals("0 0 0", why.group(2) + " " + why.group(3) + " " + why.group(4), out);
    }

    @Test
    void openLoopKeepsItsScheduleAndReportsPhases() {
        String out = runCli("run", "--embedded", "--dir", "target", "--layout", "written", "--rate", "500,200/s", "--jobs", "2",
                "--duration", "1", "--region-mib", "4", "--pattern", "random", "--read-pct", "50");
        assertTrue(out.contains("phase 1 (500/s offered for 1 s): 500 ok"), out);
        assertTrue(out.contains("phase 2 (200/s offered for 1 s): 200 ok"), out);
        Matcher m = Pattern.compile("result: ([\\d,]+) requests ok").matcher(out);
        assertTrue(m.find(), out);
        long ok = Long.parseLong(m.group(1).replace(",", ""));
        assertEquals(700, ok, "700 scheduled, none dropped: " + out);
    }
}
