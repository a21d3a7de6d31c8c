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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code load-gen soak} for 20 s against a node of its own ({@code dionode serve} in its own JVM,
 * -Xmx512m, a 256 MiB device in target/): one run, then what it did and what it found, from its
 * JSON summary. The whole class takes under a minute.
 */
class SoakCommandTest {
    @TempDir
    static Path tmp;
    private static int exit;
    private static String out;
    private static Map<?, ?> json;

    @BeforeAll
    static void soak() throws Exception {
        Path file = tmp.resolve("soak.json");
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            exit = new CommandLine(new LoadGen()).execute("soak", "--duration", "20", "--dir", "target", "--frame-timeout", "5",
                    "--json", file.toString());
        } finally {
            System.setOut(old);
        }
        out = buf.toString(StandardCharsets.UTF_8);
        json = (Map<?, ?>) TestJson.parse(Files.readString(file));
    }

    @Test
    void soakPasses() {
        assertEquals("PASS", json.get("result"), out);
        assertEquals(List.of(), json.get("reasons"), out);
        assertEquals(0, exit, out);
        assertTrue(out.lines().anyMatch(l -> l.equals("result: PASS")), out);
    }

    @Test
    void everyActivityHappened() {
        Map<?, ?> req = (Map<?, ?>) json.get("requests");
        assertTrue(count(req, "verified.write", "ok") > 0, out);
        assertTrue(count(req, "verified.read", "ok") > 0, out);
        assertTrue(count(req, "verified.write", "ENOSPC") > 0, "writers met the full device: " + out);
        assertTrue(count(req, "churn.old_handle", "ENOENT") > 0, out);
        assertEquals(0, count(req, "churn.old_handle", "ok"), "a stale handle never reaches a file: " + out);
        Map<?, ?> ev = (Map<?, ?>) json.get("events");
        assertTrue(num(ev, "unlink_rounds") > 0, out);
        assertTrue(num(ev, "estale_answers") > 0, out);
        assertTrue(num(ev, "enospc_cycles") >= 1, out);
        assertTrue(num(ev, "prealloc_writes_on_full_device") > 0, out);
        assertTrue(num(ev, "unread_replies_answered") >= 48, out);
        Map<?, ?> fuzz = (Map<?, ?>) json.get("fuzz");
        long ebadmsg = fuzz.values().stream().mapToLong(m -> num((Map<?, ?>) m, "ebadmsg")).sum();
        assertTrue(ebadmsg > 0, "fuzzed connections closed with EBADMSG: " + out);
        assertTrue(num((Map<?, ?>) fuzz.get("fields"), "EINVAL") > 0, out);
        assertTrue(num((Map<?, ?>) fuzz.get("stalled-half-frame"), "ebadmsg-after-timeout") > 0, "the node closed a stalled frame: " + out);
    }

    @Test
    void theNodeStoppedCleanlyFsckWasCleanAndEveryAcknowledgedByteReadBack() {
        assertEquals(0L, json.get("stop_exit"), out);
        assertEquals(0L, json.get("fsck_exit"), out);
        assertEquals(Boolean.TRUE, ((Map<?, ?>) json.get("fsck")).get("clean"), out);
        assertEquals(0L, json.get("restart_stop_exit"), out);
        Map<?, ?> rb = (Map<?, ?>) json.get("read_back");
        assertTrue(num(rb, "bytes_acknowledged") > 0, out);
        assertEquals(0L, rb.get("files_differing"), out);
    }

    @Test
    void rssWasSampledAndStayedUnderItsBound() {
        long rss = (Long) json.get("max_rss_kib");
        assertTrue(rss > 0 && rss <= (Long) json.get("rss_bound_kib"), out);
        assertEquals(512L, json.get("heap_mib"), "the node's own start line, from its log: " + out);
        assertTrue((Long) json.get("stated_worst_case_mib") <= 512, out);
    }

    private static long count(Map<?, ?> req, String kind, String outcome) {
        Object m = req.get(kind);
        return m == null ? 0 : num((Map<?, ?>) m, outcome);
    }

    private static long num(Map<?, ?> m, String key) {
        Object v = m == null ? null : m.get(key);
        return v == null ? 0 : ((Number) v).longValue();
    }
}
