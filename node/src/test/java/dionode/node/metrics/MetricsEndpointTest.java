package dionode.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dionode.node.device.FaultyNativeIO;
import dionode.node.device.JnaNativeIO;
import dionode.node.device.NativeIOException;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code serve --metrics} on a real node: {@code /metrics} read by the Prometheus project's own
 * text parser (python3-prometheus-client; skipped only when it is missing, and .ci/run installs
 * it), series that move with traffic, and {@code /health} before and after the journal aborts.
 */
class MetricsEndpointTest {
    private static final int B = 4096;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Debian's python, where apt puts python3-prometheus-client (a python of one's own may come first on the PATH). */
    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

    private Path device;
    private FaultyNativeIO io;
    private NodeServer node;
    private MetricsEndpoint endpoint;
    private NodeClient client;

    @BeforeEach
    void start() throws Exception {
        device = TestNodes.newDevicePath();
        io = new FaultyNativeIO(new JnaNativeIO());
        node = TestNodes.start(TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE), io, Function.identity());
        endpoint = MetricsEndpoint.start("127.0.0.1", 0, NodeMetrics.attach(node));
        client = NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    @AfterEach
    void stop() throws IOException {
        if (client != null) {
            client.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    @Test
    void theTextParsesAndItsSeriesMoveWithTraffic() throws Exception {
        FileId f = client.create("m", null, 0644, true).toCompletableFuture().join().file();
        client.write(f, 0, new byte[16 * B], 0).toCompletableFuture().join();
        client.fsync(f).toCompletableFuture().join();
        JsonNode before = scrapeUntil(m -> value(m, "dionode_request_latency_seconds", "dionode_request_latency_seconds_count",
                Map.of("op", "fsync")) >= 1);
        assertEquals("counter", before.get("dionode_writes").get("type").asText());
        assertEquals("gauge", before.get("dionode_dio_in_flight").get("type").asText());
        assertEquals("histogram", before.get("dionode_request_latency_seconds").get("type").asText());
        assertEquals("histogram", before.get("dionode_stage_latency_seconds").get("type").asText());
        assertEquals("histogram", before.get("dionode_journal_commit_seconds").get("type").asText());
        assertEquals(1, value(before, "dionode_connections", "dionode_connections", Map.of("protocol", "native")));
        assertTrue(value(before, "dionode_journal_commit_seconds", "dionode_journal_commit_seconds_count", Map.of()) >= 1);
        assertTrue(value(before, "dionode_device_bytes", "dionode_device_bytes_total", Map.of("op", "write")) >= 16 * B);
        assertTrue(before.has("dionode_write_rule_extending") && before.has("dionode_write_rule_needs_zeroing"), "every rule");
        double writes = value(before, "dionode_writes", "dionode_writes_total", Map.of());
        double timed = value(before, "dionode_request_latency_seconds", "dionode_request_latency_seconds_count", Map.of("op", "write"));
        double written = value(before, "dionode_device_bytes", "dionode_device_bytes_total", Map.of("op", "write"));
        double aligned = value(before, "dionode_write_rule_aligned", "dionode_write_rule_aligned_total", Map.of());
        for (int i = 0; i < 10; i++) {
            client.write(f, (long) i * B, new byte[B], 0).toCompletableFuture().join();
        }
        JsonNode after = scrapeUntil(m -> value(m, "dionode_request_latency_seconds", "dionode_request_latency_seconds_count",
                Map.of("op", "write")) >= timed + 10);
        assertEquals(writes + 10, value(after, "dionode_writes", "dionode_writes_total", Map.of()));
        assertEquals(aligned + 10, value(after, "dionode_write_rule_aligned", "dionode_write_rule_aligned_total", Map.of()));
        assertTrue(value(after, "dionode_device_bytes", "dionode_device_bytes_total", Map.of("op", "write")) >= written + 10 * B);
        assertTrue(value(after, "dionode_stage_latency_seconds", "dionode_stage_latency_seconds_count", Map.of("stage", "device"))
                >= timed + 10);
        client.close();
        client = null;
        scrapeUntil(m -> value(m, "dionode_connections", "dionode_connections", Map.of("protocol", "native")) == 0);
    }

    @Test
    void healthTurnsTo503WhenTheJournalAborts() throws Exception {
        assertEquals(200, get("/health").statusCode());
        assertEquals("ok\n", get("/health").body());
        FileId f = client.create("h", null, 0644, true).toCompletableFuture().join().file();
        io.failAlwaysAfter(FaultyNativeIO.Op.FDATASYNC, 0, NativeIOException.EIO);
        try {
            client.write(f, 0, new byte[B], IoFlags.DURABLE).toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | CompletionException expected) {
            // the commit that fails is this write's; the test is what /health says after it
        }
        assertTrue(node.volume().journal().isAborted());
        HttpResponse<String> health = get("/health");
        assertEquals(503, health.statusCode());
        assertTrue(health.body().contains("journal aborted") && health.body().contains("EROFS"), health.body());
        assertEquals(404, get("/nothing").statusCode());
        assertEquals(200, get("/metrics").statusCode(), "metrics still served");
    }

    private HttpResponse<String> get(String path) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + endpoint.address().getPort() + path);
        return HTTP.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Scrapes until {@code ready} holds of the parsed families (the histograms are fed as replies reach the socket). */
    private JsonNode scrapeUntil(Predicate<JsonNode> ready) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            JsonNode families = parse(get("/metrics").body());
            if (ready.test(families)) {
                return families;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("metrics never got there: " + families);
            }
            Thread.sleep(20);
        }
    }

    /** The exposition through prometheus_client's parser. */
    private static JsonNode parse(String text) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(PYTHON, "-c", script()).start();
        } catch (IOException e) {
            Assumptions.abort("python3 is not installed: " + e.getMessage());
            return null;
        }
        p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        Assumptions.assumeFalse(err.contains("No module named 'prometheus_client'"), "python3-prometheus-client is not installed");
        assertEquals(0, p.exitValue(), "the Prometheus parser refused the text: " + err + "\n" + text);
        return new ObjectMapper().readTree(out);
    }

    private static String script() throws IOException {
        try (InputStream in = MetricsEndpointTest.class.getResourceAsStream("/prom_parse.py")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The value of sample {@code sample} of family {@code family} with exactly these labels (besides {@code le}); -1 if none. */
    private static double value(JsonNode families, String family, String sample, Map<String, String> labels) {
        JsonNode f = families.get(family);
        if (f == null) {
            return -1;
        }
        for (JsonNode s : f.get("samples")) {
            if (!s.get("name").asText().equals(sample)) {
                continue;
            }
            JsonNode l = s.get("labels");
            boolean match = l.size() == labels.size();
            for (Map.Entry<String, String> e : labels.entrySet()) {
                match &= l.has(e.getKey()) && l.get(e.getKey()).asText().equals(e.getValue());
            }
            if (match) {
                return s.get("value").asDouble();
            }
        }
        return -1;
    }
}
