package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.CliRunner.Result;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.LockPolicy;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The client subcommands end to end against a real node, run in-process through picocli. */
class ClientCommandsTest {
    private static Path device;
    private static NodeServer node;
    private static String target;

    @BeforeAll
    static void start() throws IOException {
        device = TestNodes.newDevicePath();
        node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
        target = "127.0.0.1:" + node.address().getPort();
    }

    @AfterAll
    static void stop() throws IOException {
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    private static Result ok(byte[] stdin, String... args) {
        Result r = CliRunner.run(stdin, withTarget(args));
        assertEquals(0, r.code(), () -> String.join(" ", args) + ": " + r);
        return r;
    }

    private static Result ok(String... args) {
        return ok(new byte[0], args);
    }

    private static Result fails(String... args) {
        return CliRunner.run(new byte[0], withTarget(args));
    }

    private static String[] withTarget(String[] args) {
        String[] a = Arrays.copyOf(args, args.length + 2);
        a[args.length] = "--target";
        a[args.length + 1] = target;
        return a;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static Map<String, Object> stat(String name) {
        return TestJson.object(ok("stat", name, "--json").out());
    }

    private static List<Map<String, Object>> fiemap(String name) {
        return TestJson.list(ok("fiemap", name, "--json").out());
    }

    private static void roundTrip(String name, int n, String... putFlags) {
        byte[] data = random(n, n);
        String[] put = new String[putFlags.length + 2];
        put[0] = "put";
        put[1] = name;
        System.arraycopy(putFlags, 0, put, 2, putFlags.length);
        ok(data, put);
        assertArrayEquals(data, ok("get", name).stdout(), name);
        assertEquals((long) n, stat(name).get("size"), name);
    }

    @Test
    void putGetRoundTripsAnyLength() {
        roundTrip("rt-1m", 1 << 20);
        roundTrip("rt-1000", 1000);
        roundTrip("rt-1m7", (1 << 20) + 7);
        roundTrip("rt-3m513", (3 << 20) + 513); // several pipelined chunks and a buffered tail
        roundTrip("rt-empty", 0);
    }

    @Test
    void putBufferedAndSync() {
        roundTrip("rt-buffered", (1 << 20) + 3, "--buffered");
        roundTrip("rt-sync", 5000, "--sync", "--policy", "aligned-shared");
        assertEquals("aligned-shared", stat("rt-sync").get("policy"));
        Map<String, Object> counters = TestJson.object(ok("stats").out());
        assertTrue((Long) counters.get("buffered_writes") >= 3, counters::toString);
    }

    @Test
    void putAtOffsetsAndRangedGets() {
        byte[] base = random(8192, 1);
        ok(base, "put", "off");
        byte[] patch = random(1000, 2);
        ok(patch, "put", "off", "--offset", "700"); // unaligned head, direct middle, buffered tail
        byte[] tail = random(600, 3);
        ok(tail, "put", "off", "--offset", "8K"); // aligned extending write with a buffered tail
        byte[] expect = new byte[8192 + 600];
        System.arraycopy(base, 0, expect, 0, 8192);
        System.arraycopy(patch, 0, expect, 700, 1000);
        System.arraycopy(tail, 0, expect, 8192, 600);
        assertArrayEquals(expect, ok("get", "off").stdout());
        assertEquals(8792L, stat("off").get("size"));
        assertArrayEquals(Arrays.copyOfRange(expect, 700, 1700), ok("get", "off", "--offset", "700", "--length", "1000").stdout());
        assertArrayEquals(Arrays.copyOfRange(expect, 512, 1212), ok("get", "off", "--offset", "512", "--length", "700").stdout());
        assertArrayEquals(Arrays.copyOfRange(expect, 8000, 8792), ok("get", "off", "--offset", "8000").stdout());
        // a --length past the end stops at the end
        assertArrayEquals(Arrays.copyOfRange(expect, 4096, 8792),
                ok("get", "off", "--offset", "4K", "--length", "1M", "--nowait").stdout());
        assertEquals(0, ok("get", "off", "--offset", "1M").stdout().length);
    }

    @Test
    void explainPrintsTheDecisionWithoutWriting() {
        ok(random(16384, 5), "put", "ex");
        long writes = (Long) TestJson.object(ok("stats").out()).get("writes");
        Map<String, Object> e = TestJson.object(ok("explain", "ex", "--offset", "512", "--length", "14336", "--json").out());
        assertEquals("zeroing-aware", e.get("policy"));
        assertEquals(true, e.get("unaligned"));
        assertEquals(false, e.get("extending"));
        assertEquals(false, e.get("needs_zeroing"));
        assertEquals("unaligned_no_zeroing", e.get("rule"));
        assertEquals("shared", e.get("lock"));
        assertEquals("free", e.get("lock_now"));
        assertEquals(false, e.get("eagain"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> lookups = (List<Map<String, Object>>) e.get("lookups");
        // one written extent covers the partial head and tail blocks: one lookup answers both (ext4_dio_needs_zeroing)
        assertEquals(1, lookups.size(), e::toString);
        assertEquals("written", lookups.get(0).get("state"));
        assertEquals(4L, lookups.get(0).get("len"));
        Map<String, Object> extending = TestJson.object(ok("explain", "ex", "--offset", "16K", "--length", "4K", "--nowait",
                "--json").out());
        assertEquals("extending", extending.get("rule"));
        assertEquals("exclusive", extending.get("lock"));
        assertEquals(true, extending.get("eagain"));
        assertTrue(((String) extending.get("answer")).startsWith("EAGAIN"), extending::toString);
        String human = ok("explain", "ex", "--offset", "0", "--length", "8K").out();
        assertTrue(human.contains("rule:           aligned") && human.contains("lock:           shared"), human);
        assertEquals(writes, TestJson.object(ok("stats").out()).get("writes"), "explain wrote nothing");
        assertEquals(16384L, stat("ex").get("size"));
    }

    @Test
    void statJsonFields() {
        ok(random(5000, 4), "put", "st");
        Map<String, Object> s = stat("st");
        assertEquals("st", s.get("name"));
        assertEquals(5000L, s.get("size"));
        assertEquals(4096L, s.get("block_size"));
        assertEquals(2L, s.get("blocks"));
        assertEquals("0644", s.get("mode"));
        assertEquals("zeroing-aware", s.get("policy"));
        assertTrue((Long) s.get("ino") > 0 && (Long) s.get("mtime_ns") > 0 && (Long) s.get("ctime_ns") > 0, s::toString);
        assertTrue(s.containsKey("disksize"));
        @SuppressWarnings("unchecked")
        Map<String, Object> layout = (Map<String, Object>) s.get("layout");
        assertEquals(2L, layout.get("written_blocks"));
        assertEquals(0L, layout.get("unwritten_blocks"));
        assertEquals(false, s.get("dax"));
        String human = ok("stat", "st").out();
        assertTrue(human.contains("Size: 5000") && human.contains("Mode: 0644"), human);
    }

    /** put --dax: a DAX file, any length (unaligned pieces too go through the mapping), and stat says so. */
    @Test
    void putDaxMakesADaxFile() {
        roundTrip("rt-dax", (1 << 20) + 777, "--dax");
        assertEquals(true, stat("rt-dax").get("dax"));
        byte[] patch = random(3000, 12);
        ok(patch, "put", "rt-dax", "--offset", "100", "--dax"); // an existing file: opened, --dax changes nothing
        byte[] got = ok("get", "rt-dax", "--offset", "100", "--length", "3000").stdout();
        assertArrayEquals(patch, got);
        assertTrue(ok("stat", "rt-dax").out().contains("DAX"));
    }

    @Test
    void fallocateShowsUnwrittenAndPunchSplitsExtents() {
        ok(random(8192, 5), "put", "fa");
        ok("fallocate", "fa", "8K", "16K");
        assertEquals(24576L, stat("fa").get("size"));
        List<Map<String, Object>> ext = fiemap("fa");
        Map<String, Object> lastExt = ext.get(ext.size() - 1);
        assertEquals(List.of("last", "unwritten"), lastExt.get("flags"));
        assertEquals(24576L, (Long) lastExt.get("logical") + (Long) lastExt.get("length"));
        @SuppressWarnings("unchecked")
        Map<String, Object> layout = (Map<String, Object>) stat("fa").get("layout");
        assertEquals(4L, layout.get("unwritten_blocks"));
        ok("fallocate", "fa", "24K", "8K", "--keep-size");
        assertEquals(24576L, stat("fa").get("size"));

        byte[] data = random(16384, 6);
        ok(data, "put", "pu");
        ok("punch", "pu", "4096", "4096");
        List<Map<String, Object>> p = fiemap("pu");
        assertEquals(2, p.size(), p::toString);
        assertEquals(0L, p.get(0).get("logical"));
        assertEquals(4096L, p.get(0).get("length"));
        assertEquals(List.of(), p.get(0).get("flags"));
        assertEquals(8192L, p.get(1).get("logical"));
        assertEquals(8192L, p.get(1).get("length"));
        assertEquals(List.of("last"), p.get(1).get("flags"));
        Arrays.fill(data, 4096, 8192, (byte) 0);
        assertArrayEquals(data, ok("get", "pu").stdout());
        String human = ok("fiemap", "pu").out();
        assertTrue(human.contains("pu: 2 extents found") && human.contains("last"), human);
    }

    @Test
    void lsRmTruncateChmodSync() {
        ok(random(3000, 7), "put", "ls-a");
        ok(random(10, 8), "put", "ls-b");
        List<String> names = ok("ls").out().lines().toList();
        assertTrue(names.contains("ls-a") && names.contains("ls-b"), names::toString);
        String lsl = ok("ls", "-l").out();
        assertTrue(lsl.lines().anyMatch(l -> l.matches("\\s*\\d+\\s+3000 ls-a")), lsl);
        ok("truncate", "ls-a", "100");
        assertEquals(100L, stat("ls-a").get("size"));
        ok("chmod", "ls-a", "4755");
        assertEquals("4755", stat("ls-a").get("mode"));
        ok("chmod", "ls-a", "0600");
        assertEquals("0600", stat("ls-a").get("mode"));
        ok("sync", "ls-a");
        ok("rm", "ls-b");
        assertFalse(ok("ls").out().lines().toList().contains("ls-b"));
        Result r = fails("rm", "ls-b");
        assertEquals(1, r.code());
        assertTrue(r.stderr().startsWith("dionode rm: ENOENT"), r.stderr());
    }

    @Test
    void statsIsOneJsonObject() {
        ok(random(4096, 9), "put", "stats-f");
        String out = ok("stats").out();
        assertEquals(1, out.lines().count(), out);
        Map<String, Object> counters = TestJson.object(out);
        assertTrue(counters.containsKey("write_shared"), out);
        assertTrue(counters.get("write_shared") instanceof Long, out);
    }

    @Test
    void failedRequestsPrintTheErrnoAndExit1() {
        Result r = fails("get", "no-such-file");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.stderr().startsWith("dionode get: ENOENT: "), r.stderr());
        assertEquals(0, r.stdout().length);

        ok(random(4096, 10), "put", "nw");
        Result e = CliRunner.run(random(4096, 11), withTarget(new String[] {"put", "nw", "--nowait", "--offset", "1M"}));
        assertEquals(1, e.code(), e::toString);
        assertTrue(e.stderr().startsWith("dionode put: EAGAIN: "), e.stderr());
        assertEquals(4096L, stat("nw").get("size"));
        // a NOWAIT overwrite inside the file needs no exclusive lock
        byte[] over = random(4096, 12);
        ok(over, "put", "nw", "--nowait");
        assertArrayEquals(over, ok("get", "nw", "--nowait").stdout());

        Result s = fails("stat", "no-such-file", "--json");
        assertEquals(1, s.code());
        assertTrue(s.stderr().contains("ENOENT"), s.stderr());
    }

    @Test
    void connectionRefusedIsAClearFailure() throws IOException {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        Result r = CliRunner.run("ls", "--target", "127.0.0.1:" + port);
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.stderr().startsWith("dionode ls: cannot connect to 127.0.0.1:" + port), r.stderr());
    }

    @Test
    void badArgumentsAreUsageErrors() {
        assertEquals(2, CliRunner.run("put").code());
        assertEquals(2, CliRunner.run("get", "f", "--target", "nohostport").code());
        assertEquals(2, CliRunner.run("get", "f", "--offset", "lots").code());
        assertEquals(2, CliRunner.run("chmod", "f", "9").code());
        assertEquals(2, CliRunner.run("put", "f", "--policy", "fastest").code());
        Result r = CliRunner.run("put", "f", "--nowait", "--buffered", "--target", target);
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.stderr().contains("--nowait"), r.stderr());
        assertEquals(2, CliRunner.run("fallocate", "f", "0").code());
    }

    @Test
    void everyCommandHasHelp() {
        for (String c : List.of("put", "get", "stat", "fiemap", "ls", "rm", "truncate", "fallocate", "punch", "sync", "chmod",
                "stats", "explain")) {
            Result r = CliRunner.run(c, "--help");
            assertEquals(0, r.code(), c);
            assertTrue(r.out().contains("--target") && r.out().startsWith("Usage: dionode " + c), c + ": " + r.out());
        }
    }
}
