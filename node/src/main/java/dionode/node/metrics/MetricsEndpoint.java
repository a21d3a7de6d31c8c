package dionode.node.metrics;

import com.sun.net.httpserver.HttpExchange;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve --metrics HOST:PORT}: {@code GET /metrics} in the Prometheus text format (the
 * Prometheus client's own handler) and {@code GET /health}, 200 while the node serves and 503 once
 * its journal has aborted. Scrapes run on two threads of their own with a short bounded queue;
 * past it the HTTP server's thread runs the scrape itself, so nothing queues without bound and no
 * actor or loop thread ever serves HTTP. Thread-safe.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);
    private static final int THREADS = 2;
    private static final int QUEUE = 16;

    private final HTTPServer server;
    private final String host;

    private MetricsEndpoint(HTTPServer server, String host) {
        this.server = server;
        this.host = host;
    }

    /** Serves {@code metrics} on {@code host:port} (port 0 picks a free one). */
    public static MetricsEndpoint start(String host, int port, NodeMetrics metrics) throws IOException {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, THREADS, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), task -> {
            Thread thread = new Thread(task, "dionode-metrics-" + n.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        HTTPServer server;
        try {
            server = HTTPServer.builder().hostname(host).port(port).registry(metrics.registry()).executorService(executor)
                    .defaultHandler(exchange -> other(exchange, metrics)).buildAndStart();
        } catch (IOException e) {
            executor.shutdownNow();
            throw new IOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        MetricsEndpoint endpoint = new MetricsEndpoint(server, host);
        LOG.info("metrics on http://{}:{}/metrics, health on /health", host, server.getPort());
        return endpoint;
    }

    /** Every path but /metrics: /health, or 404 naming what there is. */
    private static void other(HttpExchange exchange, NodeMetrics metrics) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (path.equals("/health")) {
            String unhealthy = metrics.unhealthy();
            reply(exchange, unhealthy == null ? 200 : 503, unhealthy == null ? "ok" : unhealthy);
        } else {
            reply(exchange, 404, "no " + path + " here: GET /metrics (Prometheus text format) or /health");
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, exchange.getRequestMethod().equals("HEAD") ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (!exchange.getRequestMethod().equals("HEAD")) {
                out.write(bytes);
            }
        }
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(host, server.getPort());
    }

    @Override
    public void close() {
        server.close();
    }
}
