package dionode.node.server;

import dionode.node.cache.PageCache;
import dionode.node.cache.PageCacheHook;
import dionode.node.fs.VolumeLoader;
import dionode.node.inode.AccessRules;
import dionode.protocol.LockPolicy;
import dionode.protocol.util.HostPort;
import dionode.protocol.wire.Wire;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything {@code dionode serve} can be told. Immutable.
 *
 * @param device the device file or block device
 * @param size size of a device file created on first run
 * @param create create, fully write and format the device file if it does not exist
 * @param parallelism requests in the node per connection ({@code mapAsyncUnordered(n)})
 * @param ioThreads device I/O threads (the device queue depth)
 * @param sectorSize 0 = read from the device
 * @param wire what the wire may take of the node's memory and time (frame timeout, buffers, connections)
 * @param engine the threads and native calls a request's bytes go through
 * @param esCacheBytes bytes of extent blocks the node keeps in memory ({@code serve --es-cache})
 * @param tls TLS on the native listener and STARTTLS on NBD ({@code serve --tls-*}); null: plain text
 * @param access who may do what to files: the admins ({@code serve --admins})
 * @param pageCache the page cache's size and dirty expiry ({@code serve --page-cache, --dirty-expire})
 * @param cluster the cluster this node is a member of ({@code serve --cluster-bind, --seed-nodes}), or {@link ClusterConfig#NONE}
 */
public record NodeConfig(Path device, long size, boolean create, String host, int port, LockPolicy policy, int parallelism,
        int ioThreads, int ioQueue, int sectorSize, int maxPayload, Duration commitInterval, Duration idleTimeout,
        int maxWaitersPerInode, long inodes, WireLimits wire, Engine engine,
        long esCacheBytes, NodeTls tls, AccessRules access, PageCacheConfig pageCache, ClusterConfig cluster) {

    public static final Path DEFAULT_DEVICE = Path.of("data", "dionode.img");
    public static final long DEFAULT_SIZE = 1L << 30;

    public static NodeConfig defaults() {
        return new NodeConfig(DEFAULT_DEVICE, DEFAULT_SIZE, true, "127.0.0.1", 7070, LockPolicy.ZEROING_AWARE, 64, 32, 4096, 0,
                Wire.DEFAULT_MAX_PAYLOAD, Duration.ofSeconds(1), Duration.ofSeconds(30), 4096, 0, WireLimits.defaults(), Engine.DEFAULT,
                VolumeLoader.DEFAULT_EXTENT_CACHE, null, AccessRules.NO_ADMINS, PageCacheConfig.DEFAULT, ClusterConfig.NONE);
    }

    public NodeConfig withDevice(Path p, long bytes, boolean createIfMissing) {
        return new NodeConfig(p, bytes, createIfMissing, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, access, pageCache, cluster);
    }

    public NodeConfig withAddress(String h, int p) {
        return new NodeConfig(device, size, create, h, p, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, access, pageCache, cluster);
    }

    public NodeConfig withPolicy(LockPolicy p) {
        return new NodeConfig(device, size, create, host, port, p, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, access, pageCache, cluster);
    }

    public NodeConfig withTuning(int newParallelism, int newIoThreads, int newSectorSize) {
        return new NodeConfig(device, size, create, host, port, policy, newParallelism, newIoThreads, ioQueue, newSectorSize,
                maxPayload, commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, access, pageCache, cluster);
    }

    public NodeConfig withWire(WireLimits w) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, w, engine, esCacheBytes, tls, access, pageCache, cluster);
    }

    /** A smaller largest frame (tests of the wire's bounds use it to keep their volumes small). */
    public NodeConfig withMaxPayload(int bytes) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, bytes,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, access, pageCache, cluster);
    }

    public NodeConfig withTimes(Duration newCommitInterval, Duration newIdleTimeout) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                newCommitInterval, newIdleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, access, pageCache, cluster);
    }

    /** {@code n} inodes in the table of a device this node formats; 0 = scale with the size. */
    public NodeConfig withInodes(long n) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, n, wire, engine, esCacheBytes, tls, access, pageCache, cluster);
    }

    public NodeConfig withEngine(Engine e) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, e, esCacheBytes, tls, access, pageCache, cluster);
    }

    public NodeConfig withEsCache(long bytes) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, bytes, tls, access, pageCache, cluster);
    }

    public NodeConfig withTls(NodeTls t) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, t, access, pageCache, cluster);
    }

    public NodeConfig withAccess(AccessRules a) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, a, pageCache, cluster);
    }

    public NodeConfig withPageCache(PageCacheConfig p) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, access, p, cluster);
    }

    /** Membership in a Pekko cluster ({@code serve --cluster-bind, --seed-nodes}); {@link ClusterConfig#NONE}: the node runs alone. */
    public NodeConfig withCluster(ClusterConfig c) {
        return new NodeConfig(device, size, create, host, port, policy, parallelism, ioThreads, ioQueue, sectorSize, maxPayload,
                commitInterval, idleTimeout, maxWaitersPerInode, inodes, wire, engine, esCacheBytes, tls, access, pageCache, c);
    }

    public NodeConfig withTransport(TransportKind kind) {
        return withEngine(new Engine(kind, engine.kernelAio(), engine.eventLoop(), engine.loopSpin()));
    }

    public NodeConfig withKernelAio(boolean on) {
        return withEngine(new Engine(engine.transport(), on, engine.eventLoop(), engine.loopSpin()));
    }

    public NodeConfig withEventLoop(boolean on) {
        return withEngine(new Engine(engine.transport(), engine.kernelAio(), on, engine.loopSpin()));
    }

    /** How long an idle event loop polls before it sleeps ({@code serve --loop-spin}). */
    public NodeConfig withLoopSpin(Duration spin) {
        return withEngine(new Engine(engine.transport(), engine.kernelAio(), engine.eventLoop(), spin));
    }

    public TransportKind transport() {
        return engine.transport();
    }

    public boolean kernelAio() {
        return engine.kernelAio();
    }

    /**
     * The threads and native calls a request's bytes go through ({@code serve --transport,
     * --io-engine, --dispatcher}).
     *
     * @param transport what carries the listeners' bytes under their stream flows
     * @param kernelAio start data transfers with kernel AIO from the inode actor ({@code aio});
     *                  false: every transfer on the I/O threads ({@code threads})
     * @param eventLoop actors and stream stages run on event loops that also wait for the sockets
     *                  and the AIO completions ({@code loop}); false: on a fork-join pool ({@code pool})
     * @param loopSpin how long an event loop with nothing to run keeps polling its fds before it
     *                 sleeps in epoll_wait: a device completion or the next request that comes
     *                 within it is taken without a wake-up (zero: sleep at once)
     */
    public record Engine(TransportKind transport, boolean kernelAio, boolean eventLoop, Duration loopSpin) {
        /** Longer than a device write takes here (about 50 µs at one job), so one request wakes nobody. */
        public static final Duration DEFAULT_LOOP_SPIN = Duration.ofNanos(60_000);
        public static final Engine DEFAULT = new Engine(TransportKind.NIO, true, true, DEFAULT_LOOP_SPIN);
    }

    /**
     * The page cache: its budget, how long a page may stay dirty, and the buffered paths'
     * injection points ({@link PageCacheHook#NONE} but in ordering tests).
     */
    public record PageCacheConfig(long bytes, Duration dirtyExpire, PageCacheHook hook) {
        public static final PageCacheConfig DEFAULT = new PageCacheConfig(PageCache.DEFAULT_BYTES, PageCache.DEFAULT_DIRTY_EXPIRE,
                PageCacheHook.NONE);

        public PageCacheConfig withHook(PageCacheHook h) {
            return new PageCacheConfig(bytes, dirtyExpire, h);
        }
    }

    /**
     * Membership in a Pekko cluster (DESIGN §7): Artery TCP on {@code bind}, joining through
     * {@code seeds} (a node may list itself), with the split brain resolver's keep-majority deciding
     * after {@code stableAfter}.
     *
     * @param bind the cluster's address for this node (canonical host and port); null: no cluster
     */
    /**
     * @param remoteTimeout how long a request for a file on another node waits for its answer before it is EHOSTDOWN
     */
    public record ClusterConfig(HostPort bind, List<HostPort> seeds, Duration stableAfter, Duration remoteTimeout) {
        public static final ClusterConfig NONE = new ClusterConfig(null, List.of(), Duration.ZERO, Duration.ZERO);
        /** Long enough to ride out a GC pause or a busy disk, short enough that a dead node leaves within seconds. */
        public static final Duration DEFAULT_STABLE_AFTER = Duration.ofSeconds(7);
        /** serve --remote-timeout's default. */
        public static final Duration DEFAULT_REMOTE_TIMEOUT = Duration.ofSeconds(5);

        public ClusterConfig {
            seeds = List.copyOf(seeds);
        }

        /** A cluster on {@code bind} joining through {@code seeds}, keep-majority after the default stable-after. */
        public static ClusterConfig of(HostPort bind, List<HostPort> seeds) {
            return new ClusterConfig(bind, seeds, DEFAULT_STABLE_AFTER, DEFAULT_REMOTE_TIMEOUT);
        }

        public boolean enabled() {
            return bind != null;
        }

        public ClusterConfig withStableAfter(Duration d) {
            return new ClusterConfig(bind, seeds, d, remoteTimeout);
        }

        public ClusterConfig withRemoteTimeout(Duration d) {
            return new ClusterConfig(bind, seeds, stableAfter, d);
        }
    }
}
