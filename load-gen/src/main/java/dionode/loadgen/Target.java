package dionode.loadgen;

import dionode.node.device.JnaNativeIO;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.NodeClient;
import dionode.protocol.util.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;

/**
 * The node a run talks to: a remote {@code host:port} (or several members of one cluster, over
 * which connections are spread: {@link #connect(ClientOptions, int)}), or a node started in this JVM on a
 * temporary device file in the current directory (O_DIRECT needs a disk filesystem, not /tmp's
 * tmpfs), removed on {@link #close()}. Not thread-safe; used by one command.
 */
public final class Target implements AutoCloseable {
    /** Device space the node needs beside file data: journal, inode table, bitmaps, extent blocks. */
    static final long DEVICE_OVERHEAD_BYTES = 96L << 20;

    /** The nodes, in the order given; the first is the one control requests and the report name. */
    private final List<HostPort> addresses;
    /** TLS with this context (--tls-*), or null: plain text. */
    private final SSLContext tls;
    private final NodeServer server;
    private final Path device;
    private final Thread cleanup;

    private Target(List<HostPort> addresses, SSLContext tls, NodeServer server, Path device, Thread cleanup) {
        this.addresses = List.copyOf(addresses);
        this.tls = tls;
        this.server = server;
        this.device = device;
        this.cleanup = cleanup;
    }

    /** A node running elsewhere, at {@code address}, spoken to over TLS with {@code tls} (null: plain text). */
    public static Target remote(HostPort address, SSLContext tls) {
        return remote(List.of(address), tls);
    }

    /** Members of one cluster running elsewhere (at least one); jobs are spread over them. */
    public static Target remote(List<HostPort> addresses, SSLContext tls) {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("no node to load: --target needs HOST:PORT");
        }
        return new Target(addresses, tls, null, null, null);
    }

    /**
     * Starts a node in this JVM on a new device file in {@code dir} big enough for files of
     * {@code maxFileBytes} (one at a time), listening on a free port of 127.0.0.1.
     */
    public static Target embedded(Path dir, long maxFileBytes) throws IOException {
        long size = deviceBytesFor(maxFileBytes);
        Path device = dir.resolve("load-gen-device-" + ProcessHandle.current().pid() + ".img").toAbsolutePath();
        Files.deleteIfExists(device);
        Thread cleanup = new Thread(() -> deleteQuietly(device), "load-gen-device-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            NodeConfig config = NodeConfig.defaults().withDevice(device, size, true).withAddress("127.0.0.1", 0);
            NodeServer server = NodeServer.start(config, new JnaNativeIO());
            return new Target(List.of(new HostPort("127.0.0.1", server.address().getPort())), null, server, device, cleanup);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(device);
            Runtime.getRuntime().removeShutdownHook(cleanup);
            throw e;
        }
    }

    /** Device size for files of up to {@code maxFileBytes}: data plus room for extent blocks and metadata. */
    static long deviceBytesFor(long maxFileBytes) {
        long bytes = maxFileBytes + maxFileBytes / 32 + DEVICE_OVERHEAD_BYTES;
        return (bytes + (1 << 20) - 1) / (1 << 20) * (1 << 20);
    }

    /** A new connection to the (first) node with {@code options}, and this target's TLS. */
    public NodeClient connect(ClientOptions options) throws IOException {
        return connect(options, 0);
    }

    /** A new connection for job {@code job}: to the node {@code job} modulo the number of nodes. */
    public NodeClient connect(ClientOptions options, int job) throws IOException {
        HostPort address = addresses.get(Math.floorMod(job, addresses.size()));
        return NodeClient.connect(address.host(), address.port(), tls == null ? options : options.withTls(tls));
    }

    public NodeClient connect() throws IOException {
        return connect(ClientOptions.defaults());
    }

    public String host() {
        return addresses.get(0).host();
    }

    public int port() {
        return addresses.get(0).port();
    }

    public boolean isEmbedded() {
        return server != null;
    }

    /** The embedded node, or null. */
    public NodeServer server() {
        return server;
    }

    @Override
    public String toString() {
        if (isEmbedded()) {
            return "embedded node on " + device + " (" + addresses.get(0) + ")";
        }
        return addresses.size() == 1 ? addresses.get(0).toString()
                : addresses.stream().map(HostPort::toString).collect(Collectors.joining(","));
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
            deleteQuietly(device);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException ignored) {
                // shutting down already
            }
        }
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
