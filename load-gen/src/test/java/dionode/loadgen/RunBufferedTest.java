package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.TestJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code load-gen run --buffered} against an embedded node for 1 s: every request takes the node's buffered path, at any alignment. */
class RunBufferedTest {
    private static final Pattern RESULT = Pattern.compile("result: ([\\d,]+) requests ok .* errors (\\d+), EAGAIN (\\d+), unfinished (\\d+)");

    /** 1000-byte requests at +7 within 1000-byte slots: no sector alignment at all, which direct I/O would refuse. */
    @Test
    void unalignedBufferedReadsAndWritesAllSucceedAndTheNodeCountsEveryWriteAsBuffered(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("run.json");
        String out = CommandsTest.runCli("run", "--embedded", "--dir", "target", "--buffered", "--pattern", "random", "--bs", "1000",
                "--align-offset", "7", "--read-pct", "30", "--jobs", "2", "--duration", "1", "--region-mib", "4", "--json",
                json.toString());
        assertTrue(out.contains(", random 1000 bytes at +7, buffered, 30% reads, 0% NOWAIT"), out);
        Matcher m = RESULT.matcher(out);
        assertTrue(m.find(), out);
        long ok = Long.parseLong(m.group(1).replace(",", ""));
        assertTrue(ok > 0, out);
        assertEquals("0 0 0", m.group(2) + " " + m.group(3) + " " + m.group(4), "no errors, EAGAIN or unfinished requests\n" + out);

        long writes = delta(out, "writes");
        assertTrue(writes > 0, out);
        assertEquals(ok, writes + delta(out, "reads"), "the node answered every request as a read or a write\n" + out);
        assertEquals(writes, delta(out, "buffered_writes"), "every write took the buffered path\n" + out);
        assertEquals(writes, delta(out, "write_exclusive"), "a buffered write holds the exclusive lock\n" + out);
        assertEquals(0, delta(out, "write_shared"), out);
        assertEquals(0, delta(out, "errors"), out);

        Map<String, Object> top = TestJson.object(Files.readString(json));
        assertEquals(Boolean.TRUE, top.get("buffered"), top.toString());
        assertEquals(ok, top.get("requests_ok"), top.toString());
        assertEquals(0L, top.get("errors"), top.toString());
    }

    /** The same requests without --buffered are direct I/O, which the node refuses (EINVAL) unless sector aligned. */
    @Test
    void withoutBufferedTheSameUnalignedRequestsAreRefusedAsDirectIo(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("run.json");
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = new CommandLine(new LoadGen()).execute("run", "--embedded", "--dir", "target", "--bs", "1000", "--align-offset", "7",
                    "--duration", "1", "--region-mib", "4", "--json", json.toString());
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(1, rc, "errors make the exit status 1\n" + out);
        Matcher m = RESULT.matcher(out);
        assertTrue(m.find(), out);
        assertEquals("0", m.group(1), out);
        assertTrue(Long.parseLong(m.group(2)) > 0, out);
        assertTrue(out.contains("first error: EINVAL: direct I/O needs offset and length aligned to the "), out);
        assertTrue(out.contains(", seq 1000 bytes at +7, direct, 0% reads"), out);
        assertEquals(Boolean.FALSE, TestJson.object(Files.readString(json)).get("buffered"));
    }

    /** The change of one counter in the report's "node stats (before -> after, delta)" table. */
    private static long delta(String out, String key) {
        Matcher m = Pattern.compile("(?m)^  " + Pattern.quote(key) + " +-?\\d+ -> +-?\\d+  ([+-]\\d+)$").matcher(out);
        assertTrue(m.find(), key + " in\n" + out);
        return Long.parseLong(m.group(1));
    }
}
