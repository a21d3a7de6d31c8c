package dionode.node.server;

import dionode.node.cache.PageCache;
import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.device.DaxMapping;
import dionode.node.device.DeviceFiles;
import dionode.node.device.IoExecutor;
import dionode.node.device.NativeIO;
import dionode.node.fs.Mkfs;
import dionode.node.fs.Volume;
import dionode.node.meta.Layout;
import dionode.node.fs.VolumeLoader;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dionode.node.loop.EventLoopGroup;
import dionode.node.inode.DataPath;
import dionode.node.inode.DaxDataPath;
import dionode.node.inode.DeviceDataPath;
import dionode.node.inode.InodeContext;
import dionode.node.inode.InodeRefs;
import dionode.node.inode.InodeRegion;
import dionode.node.cluster.ClusterRouter;
import dionode.node.cluster.VolumeDoors;
import dionode.node.cluster.VolumeView;
import dionode.node.inode.NodeCounters;
import dionode.node.journal.JournalOptions;
import dionode.node.namespace.NamespaceActor;
import dionode.node.trace.StageLatencies;
import dionode.protocol.wire.KryoCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running node: device, mounted volume, I/O pool, actors and the TCP listener, started and
 * stopped in order. {@link #close()} is the clean shutdown of SIGTERM: stop accepting, let
 * requests in flight finish, stop the actors, commit and checkpoint the journal, sync, close.
 * Thread-safe.
 */
public final class NodeServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeServer.class);

    private final NodeConfig config;
    private final BlockDevice device;
    private final Volume volume;
    private final IoExecutor io;
    private final ActorSystem<Void> system;
    private final Dispatcher dispatcher;
    private final NodeCounters counters;
    private final ActorRef<InodeRegion.Command> region;
    private final Binding binding;
    private final Transport transport;
    /** The event loops the actors, stages and AIO completions run on, or null (a fork-join pool and threads of their own). */
    private final EventLoopGroup loops;
    /** The device's data area mapped for DAX files, or null when it cannot be mapped. */
    private final DaxMapping dax;
    private volatile boolean closed;
    private final PageCache cache;

    private NodeServer(NodeConfig config, BlockDevice device, Volume volume, IoExecutor io, ActorSystem<Void> system,
            Dispatcher dispatcher, NodeCounters counters, ActorRef<InodeRegion.Command> region, Binding binding,
            Transport transport, EventLoopGroup loops, DaxMapping dax, PageCache cache) {
        this.dax = dax;
        this.cache = cache;
        this.config = config;
        this.device = device;
        this.volume = volume;
        this.io = io;
        this.system = system;
        this.dispatcher = dispatcher;
        this.counters = counters;
        this.region = region;
        this.binding = binding;
        this.transport = transport;
        this.loops = loops;
    }

    public static NodeServer start(NodeConfig config, NativeIO nativeIO) throws IOException {
        return start(config, nativeIO, Function.identity());
    }

    /**
     * @param dataPathWrapper lets ordering tests put a gate in front of the real data path
     */
    public static NodeServer start(NodeConfig config, NativeIO nativeIO, Function<DataPath, DataPath> dataPathWrapper)
            throws IOException {
        boolean fresh = false;
        if (!Files.exists(config.device())) {
            if (!config.create()) {
                throw new IOException("device " + config.device() + " does not exist");
            }
            Files.createDirectories(config.device().toAbsolutePath().getParent());
            LOG.info("creating device file {} of {} bytes (fully written, not sparse)", config.device(), config.size());
            DeviceFiles.createFullyWritten(config.device(), config.size(), nativeIO);
            fresh = true;
        }
        Config pekkoConfig = ConfigFactory.load();
        EventLoopGroup loops = config.engine().eventLoop() && EventLoopGroup.available() ? EventLoopGroup.start(streamThreads(pekkoConfig),
                config.engine().loopSpin().toNanos())
                : null;
        BlockDevice device;
        try {
            device = BlockDevice.open(config.device(), nativeIO, config.sectorSize(),
                    loops != null && config.kernelAio() ? loops.completionSignal() : null);
        } catch (IOException | RuntimeException e) {
            if (loops != null) {
                loops.shutdown();
            }
            throw e;
        }
        if (loops != null) {
            pekkoConfig = LoopDispatcherConfigurator.config("pekko.actor.default-dispatcher", loops).withFallback(pekkoConfig);
        }
        Volume volume = null;
        IoExecutor io = null;
        DaxMapping dax = null;
        ActorSystem<Void> system = null;
        try {
            Clock clock = Clock.systemUTC();
            if (fresh) {
                Mkfs.format(device, config.inodes(), config.policy(), clock);
            }
            volume = VolumeLoader.mount(device, JournalOptions.defaults().withCommitInterval(config.commitInterval()), clock,
                    false, config.esCacheBytes());
            io = new IoExecutor(config.ioThreads(), config.ioQueue());
            NodeCounters counters = new NodeCounters();
            Volume v = volume;
            counters.gauge("free_blocks", () -> v.allocator().freeBlocks());
            counters.gauge("reserved_blocks", () -> v.allocator().reservedBlocks());
            counters.gauge("journal_commits", () -> v.journal().stats().commits());
            counters.gauge("journal_flushes", () -> v.journal().stats().flushes());
            counters.gauge("journal_checkpoints", () -> v.journal().stats().checkpoints());
            counters.gauge("journal_blocks_logged", () -> v.journal().stats().blocksLogged());
            counters.gauge("journal_handle_waits", () -> v.journal().stats().handleWaits());
            counters.gauge("files", () -> v.inodes().inUseCount());
            counters.gauge("unclean_mounts", () -> v.superblock().uncleanMounts());
            counters.gauge(NodeCounters.DEVICE_BYTES_READ, device.traffic()::bytesRead);
            counters.gauge(NodeCounters.DEVICE_BYTES_WRITTEN, device.traffic()::bytesWritten);
            DataPath data = dataPathWrapper.apply(new DeviceDataPath(device, io, new AlignedBuffers(), config.kernelAio()));
            String daxRefusal = null;
            try {
                dax = device.mapDax(volume.layout().dataStart() * Layout.BLOCK_SIZE);
            } catch (IOException unmappable) {
                daxRefusal = unmappable.getMessage();
                LOG.info("no DAX files on this node: {}", daxRefusal);
            }
            String refusal = daxRefusal;
            PageCache cache = new PageCache(config.pageCache().bytes(), config.pageCache().dirtyExpire());
            registerGauges(counters, cache);
            InodeContext ctx = new InodeContext(volume, data, counters, config.maxWaitersPerInode(), config.idleTimeout(),
                    dax == null ? null : new DaxDataPath(dax, io), daxRefusal, config.access(), cache, config.pageCache().hook());
            pekkoConfig = ClusterSettings.apply(config.cluster(), volume.superblock().volumeId(), pekkoConfig);
            CompletableFuture<ActorRef<InodeRegion.Command>> regionRef = new CompletableFuture<>();
            CompletableFuture<ActorRef<NamespaceActor.Command>> nsRef = new CompletableFuture<>();
            system = ActorSystem.create(Behaviors.setup(c -> {
                ActorRef<InodeRegion.Command> r = c.spawn(InodeRegion.create(ctx), "inodes");
                InodeRefs refs = InodeRegion.refs(r);
                regionRef.complete(r);
                nsRef.complete(c.spawn(NamespaceActor.create(v, refs, config.policy(), refusal, config.access()), "namespace"));
                return Behaviors.empty();
            }), ClusterSettings.SYSTEM_NAME, pekkoConfig);
            ActorRef<InodeRegion.Command> region = regionRef.get(30, TimeUnit.SECONDS);
            Duration tick = flusherTick(config.pageCache().dirtyExpire());
            system.scheduler().scheduleWithFixedDelay(tick, tick, () -> cache.expire(v.nowNanos()), system.executionContext());
            StageLatencies latencies = StageLatencies.started();
            system.getWhenTerminated().thenRun(latencies::close);
            latencies.registerGauges(counters::gauge);
            AtomicReference<InetSocketAddress> nativeAddress = new AtomicReference<>();
            Membership membership = new Membership(system, config.cluster().enabled(), volume.superblock().volumeId().toString(),
                    nativeAddress::get);
            Dispatcher dispatcher = new Dispatcher(nsRef.get(30, TimeUnit.SECONDS), InodeRegion.refs(region), counters,
                    volume.layout().inodeCount(), latencies, membership);
            if (config.cluster().enabled()) {
                VolumeView view = new VolumeView(system, volume.superblock().volumeId().toString());
                dispatcher.routeThrough(new ClusterRouter(system, VolumeDoors.start(system, dispatcher, counters, clock), view,
                        dispatcher, config.cluster().remoteTimeout(), counters, clock));
            }
            Transport transport = Transport.of(config.wire(), counters, config.transport(), config.tls());
            counters.gauge("wire_bytes", () -> transport.budget().heldBytes());
            counters.gauge("wire_waits", () -> transport.budget().waits());
            logWorstCase(config, loops != null ? loops.threads() : streamThreads(pekkoConfig));
            TcpServer tcp = new TcpServer(dispatcher, new KryoCodec(config.maxPayload()), config.parallelism(), transport);
            Binding binding = Listener.await(tcp.bind(system, config.host(), config.port()), config.host(), config.port());
            nativeAddress.set(binding.localAddress());
            if (config.cluster().enabled()) {
                LOG.info("cluster member at {}, seeds {}, volume {}", ClusterSettings.address(config.cluster().bind()),
                        config.cluster().seeds(), volume.superblock().volumeId());
            }
            LOG.info("node on {} ({}), policy {}", config.device(), device.isBlockDevice() ? "block device" : "device file",
                    config.policy());
            return new NodeServer(config, device, volume, io, system, dispatcher, counters, region, binding, transport, loops,
                    dax, cache);
        } catch (Exception e) {
            if (system != null) {
                system.terminate();
            }
            if (io != null) {
                io.close();
            }
            closeQuietly(dax);
            if (volume != null) {
                volume.close();
            }
            device.close();
            if (loops != null) {
                loops.shutdown();
            }
            if (e instanceof IOException ioe) {
                throw ioe;
            }
            if (e instanceof IllegalArgumentException iae) {
                throw iae;
            }
            throw new IOException("node failed to start: " + e.getMessage(), e);
        }
    }

    /**
     * DESIGN §6's worst case for the wire, with both listeners (native and NBD) and as many stream
     * threads as Pekko's default dispatcher runs (application.conf sizes it): said at start, and
     * warned about when the heap cannot hold it.
     */
    private static void logWorstCase(NodeConfig config, int streamThreads) {
        WireLimits w = config.wire();
        long heap = Runtime.getRuntime().maxMemory();
        long worst = w.worstCaseBytes(2, config.maxPayload(), streamThreads);
        String line = "wire: frame timeout {} ms, wire buffer {} MiB, connection buffer {} MiB, {} connections per listener: "
                + "at most {} MiB of the {} MiB heap";
        Object[] args = {w.frameTimeout().toMillis(), w.nodeBytes() >> 20, w.connectionBytes() >> 20, w.maxConnections(), worst >> 20,
            heap >> 20};
        if (worst > heap) {
            LOG.warn(line + " (more than the heap: lower --wire-buffer or --max-connections, or raise -Xmx)", args);
        } else {
            LOG.info(line, args);
        }
    }

    /**
     * How many threads the dispatcher runs here: the fork-join pool's parallelism as Pekko
     * computes it from application.conf, which the event loops take too.
     */
    private static int streamThreads(Config config) {
        com.typesafe.config.Config pool = config.getConfig("pekko.actor.default-dispatcher.fork-join-executor");
        int wanted = (int) Math.ceil(Runtime.getRuntime().availableProcessors() * pool.getDouble("parallelism-factor"));
        return Math.min(Math.max(wanted, pool.getInt("parallelism-min")), pool.getInt("parallelism-max"));
    }

    /** The address actually bound (port 0 picks a free one). */
    public java.net.InetSocketAddress address() {
        return binding.localAddress();
    }

    public Volume volume() {
        return volume;
    }

    public NodeCounters counters() {
        return counters;
    }

    public ActorRef<InodeRegion.Command> region() {
        return region;
    }

    public ActorSystem<Void> system() {
        return system;
    }

    /** Where decoded requests go; other front-ends (NBD) feed the same dispatcher. */
    public Dispatcher dispatcher() {
        return dispatcher;
    }

    /** The wire limits and node-wide wire budget every listener of this node shares (NBD draws on them too). */
    public Transport transport() {
        return transport;
    }

    public NodeConfig config() {
        return config;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("stopping: no new connections, waiting for {} requests in flight", dispatcher.inFlight());
        try {
            binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("unbind: {}", e.toString());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (dispatcher.inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        syncPages(deadline);
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("actor system termination: {}", e.toString());
        }
        if (loops != null) {
            loops.shutdown();
        }
        io.close();
        closeQuietly(dax);
        try {
            volume.close();
            device.flush();
        } catch (IOException e) {
            LOG.error("unmount failed: {}", e.getMessage());
        } finally {
            // even after a failed unmount: the open holds the device's exclusive lock
            try {
                device.close();
            } catch (IOException e) {
                LOG.error("closing {} failed: {}", config.device(), e.getMessage());
            }
        }
        LOG.info("stopped; {} synced", config.device());
    }

    /** How often the flusher looks for expired dirty pages (dirty_writeback_centisecs: 5 s, or sooner for a short expiry). */
    private static Duration flusherTick(Duration expire) {
        long half = Math.max(10, expire.toMillis() / 2);
        return Duration.ofMillis(Math.min(5000, half));
    }

    private static void registerGauges(NodeCounters counters, PageCache cache) {
        counters.gauge("page_cache_pages", cache::usedPages);
        counters.gauge("page_cache_dirty", cache::dirtyPages);
        counters.gauge("page_cache_hits", cache::hits);
        counters.gauge("page_cache_misses", cache::misses);
        counters.gauge("page_reclaims", cache::reclaimed);
        counters.gauge("page_waits", cache::waits);
    }

    /** sync at unmount: every dirty page written back before the actors stop, within the shutdown's deadline. */
    private void syncPages(long deadline) {
        while ((cache.dirtyPages() > 0 || cache.inWriteback() > 0) && System.nanoTime() < deadline) {
            cache.syncAll();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (cache.dirtyPages() > 0 || cache.inWriteback() > 0) {
            LOG.warn("stopping with {} dirty pages not written back", cache.dirtyPages() + cache.inWriteback());
        }
    }

    /** Unmaps the DAX mapping once nothing can copy through it (actors stopped, I/O pool drained). */
    private static void closeQuietly(DaxMapping dax) {
        if (dax != null) {
            try {
                dax.close();
            } catch (IOException e) {
                LOG.error("unmapping the DAX mapping failed: {}", e.getMessage());
            }
        }
    }
}
