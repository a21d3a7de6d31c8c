package dionode.cli;

import dionode.node.server.Binding;
import dionode.node.server.TransportKind;
import dionode.cli.option.HostPortConverter;
import dionode.cli.option.SizeConverter;
import dionode.cli.option.UsageErrors;
import dionode.node.cache.PageCache;
import dionode.node.cache.PageCacheHook;
import dionode.node.device.JnaNativeIO;
import dionode.node.fs.ExtentCache;
import dionode.node.fs.VolumeLoader;
import dionode.node.inode.AccessRules;
import dionode.node.metrics.MetricsEndpoint;
import dionode.node.metrics.NodeMetrics;
import dionode.node.nbd.Nbd;
import dionode.node.nbd.NbdServer;
import dionode.node.server.Listener;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.node.server.NodeTls;
import dionode.node.server.WireLimits;
import dionode.protocol.LockPolicy;
import dionode.protocol.tls.TlsFiles;
import dionode.protocol.util.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code dionode serve}: run a node until SIGTERM/SIGINT. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run a node (default device: data/dionode.img).",
            "Without --device the embedded default data/dionode.img is used: created, fully written and formatted on",
            "first run. Prints 'listening on HOST:PORT' once bound; SIGTERM stops it cleanly (in-flight requests",
            "finish, the journal is checkpointed, the device synced, exit 0)."})
public final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--device", description = "device file or block device (default: ${DEFAULT-VALUE})")
    Path device = NodeConfig.DEFAULT_DEVICE;

    @Option(names = "--size", converter = SizeConverter.class,
            description = "size of the device file when it is created (default 1G)")
    Long size;

    @Option(names = "--host", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Option(names = "--port", description = "port (default: ${DEFAULT-VALUE})")
    int port = 7070;

    @Option(names = "--lock-policy", description = "default lock policy for new files: overwrite-check, aligned-shared or "
            + "zeroing-aware (default: ${DEFAULT-VALUE})")
    String policy = LockPolicy.ZEROING_AWARE.cliName();

    @Option(names = "--parallelism", description = "requests in the node per connection (default: ${DEFAULT-VALUE})")
    int parallelism = 64;

    @Option(names = "--io-threads", description = "device I/O threads, the device queue depth (default: ${DEFAULT-VALUE})")
    int ioThreads = 32;

    @Option(names = "--sector-size", description = "override the device's logical sector size (default: read from the device)")
    int sectorSize;

    @Option(names = "--frame-timeout", converter = Durations.Converter.class, paramLabel = "TIME",
            description = "a frame (or NBD request) begun but not complete after this long closes its connection, e.g. 30s, "
                    + "500ms (default 30s)")
    Duration frameTimeout = WireLimits.DEFAULT_FRAME_TIMEOUT;

    @Option(names = "--wire-buffer", converter = SizeConverter.class, paramLabel = "SIZE",
            description = "bytes of frames, requests and unsent replies the node holds over all connections; a connection "
                    + "that needs more stops being read until there is room (default: a quarter of the heap)")
    Long wireBuffer;

    @Option(names = "--connection-buffer", converter = SizeConverter.class, paramLabel = "SIZE",
            description = "the same bytes for one connection: a client that does not read its replies stops being read "
                    + "(default 32M)")
    Long connectionBuffer;

    @Option(names = "--max-connections", paramLabel = "N",
            description = "connections served at once per listener; past them a connection is closed at once and counted "
                    + "(stats: refused_connections) (default: ${DEFAULT-VALUE})")
    int maxConnections = WireLimits.DEFAULT_MAX_CONNECTIONS;

    @Option(names = "--transport", paramLabel = "nio|pekko",
            description = "what carries the listeners' bytes under their stream flows: a reader thread per connection with "
                    + "replies written from the stream (nio), or Pekko's Tcp (default: ${DEFAULT-VALUE})")
    String transport = TransportKind.NIO.cliName();

    @Option(names = "--io-engine", paramLabel = "aio|threads",
            description = "how data reads and writes reach the device: kernel AIO started from the inode actor, with one "
                    + "completion thread (aio), or a blocking call on an I/O thread each (threads) (default: ${DEFAULT-VALUE})")
    String ioEngine = "aio";

    @Option(names = "--dispatcher", paramLabel = "loop|pool",
            description = "where actors and stream stages run: event loops (one thread per two cores) that also wait "
                    + "for the sockets and the kernel AIO completions, so a request crosses no thread (loop), or a "
                    + "fork-join pool fed by a reader thread per connection and a completion thread (pool) "
                    + "(default: ${DEFAULT-VALUE})")
    String dispatcher = "loop";

    @Option(names = "--loop-spin", converter = LoopSpin.class, paramLabel = "TIME",
            description = "how long an idle event loop keeps polling its sockets and the device completions before it "
                    + "sleeps, e.g. 60us, 1ms, 0 (sleep at once): what arrives meanwhile is taken without a wake-up, for "
                    + "lower latency at few clients, at the price of that much CPU after each burst of work (default 60us)")
    Duration loopSpin = NodeConfig.Engine.DEFAULT_LOOP_SPIN;

    /** 0, or a duration of microseconds ({@code 60us}) up to 10 ms ({@link Durations} otherwise). */
    static final class LoopSpin implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return UsageErrors.parse(value, v -> {
                String t = v.trim().toLowerCase(java.util.Locale.ROOT);
                Duration d;
                try {
                    d = t.equals("0") ? Duration.ZERO
                            : t.endsWith("us") ? Duration.ofNanos(Math.multiplyExact(Long.parseLong(t.substring(0, t.length() - 2).trim()), 1000L))
                            : Durations.parse(t);
                } catch (ArithmeticException | IllegalArgumentException e) {
                    throw new IllegalArgumentException("not a loop spin: '" + v + "' (examples: 60us, 1ms, 0)");
                }
                if (d.isNegative() || d.compareTo(Duration.ofMillis(10)) > 0) {
                    throw new IllegalArgumentException("a loop spin of " + v + " is outside 0..10ms");
                }
                return d;
            });
        }
    }

    @Option(names = "--es-cache", converter = EsCacheSize.class, paramLabel = "SIZE",
            description = "bytes of extent blocks kept in memory over all files; the files used least recently are "
                    + "dropped first, and a NOWAIT request that needs a dropped one answers EAGAIN (default 64M, at least 64K)")
    long esCache = VolumeLoader.DEFAULT_EXTENT_CACHE;

    /** A size of at least {@link ExtentCache#MIN_BYTES}. */
    static final class EsCacheSize implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long bytes = new SizeConverter().convert(value);
            if (bytes < ExtentCache.MIN_BYTES) {
                throw new TypeConversionException("the extent cache needs at least 64K, not " + value);
            }
            return bytes;
        }
    }

    @Option(names = "--page-cache", converter = PageCacheSize.class, paramLabel = "SIZE",
            description = "bytes of file pages cached for buffered I/O over all files; clean pages used least recently "
                    + "are dropped first, dirty ones written back first (default 256M, at least 1M)")
    long pageCache = PageCache.DEFAULT_BYTES;

    @Option(names = "--dirty-expire", converter = Durations.Converter.class, paramLabel = "TIME",
            description = "how long a buffered write may stay in memory only before writeback puts it on the device "
                    + "(dirty_expire_centisecs; default 30s)")
    Duration dirtyExpire = PageCache.DEFAULT_DIRTY_EXPIRE;

    /** A size of at least {@link PageCache#MIN_BYTES}. */
    static final class PageCacheSize implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long bytes = new SizeConverter().convert(value);
            if (bytes < PageCache.MIN_BYTES) {
                throw new TypeConversionException("the page cache needs at least 1M, not " + value);
            }
            return bytes;
        }
    }

    @Option(names = "--nbd", arity = "0..1", paramLabel = "[H:]P", fallbackValue = "",
            description = "also serve NBD (every file is an export) on this address; port 10809 and --host when "
                    + "left out")
    String nbd;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "the node's certificate (PEM): serve TLS 1.3 on the "
            + "native port and require STARTTLS on NBD; needs --tls-key")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "the node's private key (PKCS#8 PEM), readable by its owner "
            + "only")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "FILE", description = "require client certificates signed by this CA (PEM); a "
            + "client's identity is its certificate's subject CN")
    Path tlsCa;

    @Option(names = "--tls-handshake-timeout", converter = Durations.Converter.class, paramLabel = "TIME",
            description = "a TLS handshake not done after this long closes its connection (stats: tls_failures) (default 10s)")
    Duration tlsHandshakeTimeout = NodeTls.DEFAULT_HANDSHAKE_TIMEOUT;

    @Option(names = "--admins", split = ",", paramLabel = "CN[,CN...]",
            description = "client identities (certificate CNs) that may do anything to any file")
    List<String> admins = List.of();

    @Option(names = "--insecure", description = "allow serving plain text on an address other than loopback")
    boolean insecure;

    @Option(names = "--metrics", paramLabel = "HOST:PORT", converter = HostPortConverter.class,
            description = "serve GET /metrics (Prometheus text format) and GET /health (200 while serving, 503 once the "
                    + "journal has aborted) over HTTP on this address; off unless given")
    HostPort metrics;

    @Option(names = "--cluster-bind", paramLabel = "HOST:PORT", converter = HostPortConverter.class,
            description = "join a cluster: Pekko Artery TCP (unencrypted) on this address, which the other members "
                    + "reach it at; the member announces the volume it mounts. Off unless given: the node runs alone")
    HostPort clusterBind;

    @Option(names = "--seed-nodes", paramLabel = "HOST:PORT[,HOST:PORT...]", split = ",", converter = HostPortConverter.class,
            description = "the cluster addresses of the members to join through (this node may be one of them); "
                    + "needs --cluster-bind (default: the --cluster-bind address alone, a cluster of one)")
    List<HostPort> seedNodes = List.of();

    @Option(names = "--remote-timeout", converter = Durations.Converter.class, paramLabel = "TIME",
            description = "how long a request for a file on another member waits for its answer before it fails with "
                    + "EHOSTDOWN (a member already known to be down or unreachable fails at once; default: 5s)")
    Duration remoteTimeout = NodeConfig.ClusterConfig.DEFAULT_REMOTE_TIMEOUT;

    /** The cluster from --cluster-bind/--seed-nodes; Artery carries no TLS here, so off loopback only with --insecure. */
    private NodeConfig.ClusterConfig cluster() throws UnknownHostException {
        if (clusterBind == null) {
            if (!seedNodes.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--seed-nodes needs --cluster-bind: the address this node "
                        + "is reached at in the cluster");
            }
            return NodeConfig.ClusterConfig.NONE;
        }
        if (!insecure && !InetAddress.getByName(clusterBind.host()).isLoopbackAddress()) {
            throw new ParameterException(spec.commandLine(), "refusing to join a cluster on " + clusterBind.host()
                    + " (--cluster-bind): the cluster's transport is not encrypted, and anyone on that network could join "
                    + "it or read its traffic; give --insecure");
        }
        if (remoteTimeout.isZero() || remoteTimeout.isNegative()) {
            throw new ParameterException(spec.commandLine(), "--remote-timeout must be more than 0");
        }
        return NodeConfig.ClusterConfig.of(clusterBind, seedNodes.isEmpty() ? List.of(clusterBind) : seedNodes)
                .withRemoteTimeout(remoteTimeout);
    }

    /** The node's TLS from --tls-cert/--tls-key/--tls-ca, or null without them. */
    private NodeTls tls() throws IOException {
        if (tlsCert == null && tlsKey == null) {
            if (tlsCa != null) {
                throw new ParameterException(spec.commandLine(), "--tls-ca needs --tls-cert and --tls-key: the node must have a "
                        + "certificate to speak TLS");
            }
            return null;
        }
        return new NodeTls(TlsFiles.context(tlsCa, tlsCert, tlsKey), tlsCa != null, tlsHandshakeTimeout);
    }

    /** Plain text off loopback lets anyone on the network read and write every file: only with --insecure. */
    private void refusePlainTextOffLoopback(String option, String address) throws UnknownHostException {
        if (!InetAddress.getByName(address).isLoopbackAddress()) {
            throw new ParameterException(spec.commandLine(), "refusing to serve plain text on " + address + " (" + option
                    + "): anyone on that network could read and write every file; give --tls-cert and --tls-key, or --insecure");
        }
    }

    private static boolean kernelAio(String engine) {
        return switch (engine) {
            case "aio" -> true;
            case "threads" -> false;
            default -> throw new IllegalArgumentException("unknown I/O engine '" + engine + "' (expected aio or threads)");
        };
    }

    private static boolean eventLoop(String dispatcher) {
        return switch (dispatcher) {
            case "loop" -> true;
            case "pool" -> false;
            default -> throw new IllegalArgumentException("unknown dispatcher '" + dispatcher + "' (expected loop or pool)");
        };
    }

    @Override
    public Integer call() throws Exception {
        NodeConfig defaults = NodeConfig.defaults();
        boolean embedded = device.equals(NodeConfig.DEFAULT_DEVICE);
        WireLimits wire = defaults.wire();
        long connectionBytes = connectionBuffer != null ? connectionBuffer : wire.connectionBytes();
        wire = wire.withFrameTimeout(frameTimeout).withMaxConnections(maxConnections)
                .withBytes(wireBuffer != null ? wireBuffer : Math.max(wire.nodeBytes(), connectionBytes), connectionBytes);
        NodeConfig config = defaults
                .withDevice(device, size != null ? size : NodeConfig.DEFAULT_SIZE, embedded || size != null)
                .withAddress(host, port)
                .withPolicy(LockPolicy.parse(policy))
                .withTuning(parallelism, ioThreads, sectorSize)
                .withWire(wire)
                .withTransport(TransportKind.parse(transport))
                .withKernelAio(kernelAio(ioEngine))
                .withEventLoop(eventLoop(dispatcher))
                .withLoopSpin(loopSpin)
                .withEsCache(esCache)
                .withPageCache(new NodeConfig.PageCacheConfig(pageCache, dirtyExpire, PageCacheHook.NONE));
        HostPort nbdAddress = nbd == null ? null : HostPort.parseListen(nbd, host, Nbd.DEFAULT_PORT, "NBD address");
        config = config.withTls(tls()).withAccess(new AccessRules(Set.copyOf(admins))).withCluster(cluster());
        if (config.tls() == null && !insecure) {
            refusePlainTextOffLoopback("--host", host);
            if (nbdAddress != null) {
                refusePlainTextOffLoopback("--nbd", nbdAddress.host());
            }
        }
        NodeServer node = NodeServer.start(config, new JnaNativeIO());
        Binding nbdBinding = null;
        MetricsEndpoint metricsEndpoint = null;
        try {
            if (nbdAddress != null) {
                nbdBinding = Listener.await(new NbdServer(node.dispatcher(), node.volume().device().sectorSize(), parallelism,
                        node.transport()).bind(node.system(), nbdAddress.host(), nbdAddress.port()), nbdAddress.host(), nbdAddress.port());
            }
            if (metrics != null) {
                metricsEndpoint = MetricsEndpoint.start(metrics.host(), metrics.port(), NodeMetrics.attach(node));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            node.close();
            throw e;
        } catch (Exception e) {
            node.close();
            throw e;
        }
        CountDownLatch stop = new CountDownLatch(1);
        // SIGTERM/SIGINT end the wait below, so the clean shutdown runs on the main thread and the exit status is 0
        for (String sig : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(sig), signal -> stop.countDown());
        }
        System.out.println("listening on " + node.address().getHostString() + ":" + node.address().getPort());
        if (nbdBinding != null) {
            System.out.println("nbd listening on " + nbdBinding.localAddress().getHostString() + ":"
                    + nbdBinding.localAddress().getPort());
        }
        if (metricsEndpoint != null) {
            System.out.println("metrics on http://" + new HostPort(metrics.host(), metricsEndpoint.address().getPort()) + "/metrics");
        }
        System.out.flush();
        try {
            stop.await();
            if (nbdBinding != null) {
                nbdBinding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // the clean shutdown below matters more than the NBD listener's
            LOG.warn("NBD listener did not unbind cleanly: {}", e.toString());
        } finally {
            if (metricsEndpoint != null) {
                metricsEndpoint.close();
            }
            node.close();
        }
        return 0;
    }
}
