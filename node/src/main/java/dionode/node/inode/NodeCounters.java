package dionode.node.inode;

import dionode.node.fs.ExtentCache;
import dionode.node.lock.LockDecision.Rule;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Node-wide counters shown by {@code dionode stats}: one LongAdder per name, plus gauges read at
 * snapshot time. Thread-safe; increments never block.
 */
public final class NodeCounters {
    public static final String WRITE_SHARED = "write_shared";
    public static final String WRITE_EXCLUSIVE = "write_exclusive";
    public static final String DIO_DRAINS = "dio_drains";
    public static final String EAGAIN = "eagain";
    public static final String ZEROED_BLOCKS = "zeroed_blocks";
    public static final String CONVERTED_BLOCKS = "converted_blocks";
    public static final String ALLOCATED_BLOCKS = "allocated_blocks";
    public static final String DIO_IN_FLIGHT = "dio_in_flight";
    public static final String LOCK_WAITS = "lock_waits";
    public static final String LOCK_UPGRADES = "lock_restarts";
    public static final String JOURNAL_WAITS = "journal_waits";
    /** Allocations that found too few free blocks and committed the journal to get freed ones back. */
    public static final String ENOSPC_RETRIES = "enospc_retries";
    public static final String WRITES = "writes";
    public static final String READS = "reads";
    public static final String BYTES_WRITTEN = "bytes_written";
    public static final String BYTES_READ = "bytes_read";
    public static final String BUFFERED_WRITES = "buffered_writes";
    /** Writes and reads of DAX files (also counted in writes and reads). */
    public static final String DAX_WRITES = "dax_writes";
    public static final String DAX_READS = "dax_reads";
    public static final String DURABLE_COMMITS = "durable_commits";
    /**
     * Direct writes into holes of a file without extents that fell back to buffered I/O
     * (ext4_dio_write_iter on -ENOTBLK; also counted in buffered_writes).
     */
    public static final String DIO_FALLBACKS = "dio_fallbacks";
    /** Direct writes whose completion found a page of their range dirtied again (dio_warn_stale_pagecache). */
    public static final String STALE_PAGECACHE = "stale_pagecache";
    /** Pages written back from the page cache. */
    public static final String WRITEBACK_PAGES = "writeback_pages";
    public static final String ERRORS = "errors";
    /** EAGAIN by reason ({@link #EAGAIN} stays the total): i_rwsem or the exclusive lock was needed. */
    public static final String EAGAIN_LOCK = "eagain_lock";
    /** A NOWAIT write would have allocated blocks (patch 1). */
    public static final String EAGAIN_ALLOC = "eagain_alloc";
    /** A cache-only lookup missed the extent cache (patches 7, 8). */
    public static final String EAGAIN_CACHE = "eagain_cache";
    /** No journal handle was available at once (patches 5, 9). */
    public static final String EAGAIN_JOURNAL = "eagain_journal";
    /** NOWAIT direct I/O over cached pages that need writeback first (filemap_range_needs_writeback). */
    public static final String EAGAIN_PAGECACHE = "eagain_pagecache";
    /** Extent cache figures (DESIGN §3), gauges over the volume's {@link ExtentCache}. */
    public static final String ES_HITS = "es_hits";
    public static final String ES_MISSES = "es_misses";
    public static final String ES_SHRUNK = "es_shrunk";
    public static final String ES_CACHED = "es_cached";
    public static final String META_READS = "meta_reads";
    /** Bytes the device moved (data, metadata and journal), gauges over its traffic. */
    public static final String DEVICE_BYTES_READ = "device_bytes_read";
    public static final String DEVICE_BYTES_WRITTEN = "device_bytes_written";
    /** Open connections of a protocol: {@code connections_native}, {@code connections_nbd}. */
    public static final String CONNECTIONS = "connections_";
    /**
     * Names that go up and down (or are a size), not only up: Prometheus gauges rather than
     * counters. Latency figures ({@code latency_*}) and connection counts are levels too.
     */
    private static final Set<String> LEVELS = Set.of(DIO_IN_FLIGHT, ES_CACHED, "free_blocks", "reserved_blocks",
            "files", "wire_bytes", "unclean_mounts", "page_cache_pages", "page_cache_dirty");
    /** Connections closed because a frame they began was not complete within the frame timeout. */
    public static final String FRAME_TIMEOUTS = "frame_timeouts";
    /** Connections accepted and closed at once: every slot of --max-connections was taken. */
    public static final String CONNECTIONS_REFUSED = "refused_connections";
    /** System calls that sent replies to clients (native and NBD); {@link #WIRE_REPLIES} over it is replies per call. */
    public static final String WIRE_WRITES = "wire_writes";
    /** Replies sent whole to clients: a connection's replies of one run of its stream leave in one gathering write. */
    public static final String WIRE_REPLIES = "wire_replies";
    /** TLS connections whose handshake failed or was not done within the handshake timeout. */
    public static final String TLS_FAILURES = "tls_failures";
    /** Requests this member took from a client and sent to the member serving the file's volume (DESIGN §7). */
    public static final String REMOTE_REQUESTS = "remote_requests";
    /** Requests other members sent here for this member's volume. */
    public static final String REMOTE_SERVED = "remote_served";
    /** Requests answered EHOSTDOWN: the volume's member down, unreachable, or silent past --remote-timeout. */
    public static final String REMOTE_HOSTDOWN = "remote_hostdown";
    /** Requests that reached this member after their entry member had answered EHOSTDOWN, and were dropped unrun. */
    public static final String REMOTE_EXPIRED = "remote_expired";
    /** Gauges: requests this member has sent to others and not had answered yet, and the most at once since start. */
    public static final String REMOTE_IN_FLIGHT = "remote_in_flight";
    public static final String REMOTE_IN_FLIGHT_PEAK = "remote_in_flight_peak";

    /**
     * Direct writes by the rule of ext4_dio_write_checks that decided their lock (DESIGN §2):
     * {@code write_rule_needs_zeroing} and the like, one per {@link Rule}; counted as the write is
     * issued, so they sum to {@link #WRITE_SHARED} plus {@link #WRITE_EXCLUSIVE}.
     */
    private static final Map<Rule, String> WRITE_RULES = new EnumMap<>(Rule.class);

    static {
        for (Rule rule : Rule.values()) {
            WRITE_RULES.put(rule, "write_rule_" + ruleName(rule));
        }
    }

    private final Map<String, LongAdder> adders = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> gauges = new ConcurrentHashMap<>();

    public NodeCounters() {
        for (String name : new String[] {WRITE_SHARED, WRITE_EXCLUSIVE, DIO_DRAINS, EAGAIN, ZEROED_BLOCKS, CONVERTED_BLOCKS,
            ALLOCATED_BLOCKS, DIO_IN_FLIGHT, LOCK_WAITS, LOCK_UPGRADES, JOURNAL_WAITS, ENOSPC_RETRIES, WRITES, READS, BYTES_WRITTEN,
            BYTES_READ, BUFFERED_WRITES, DIO_FALLBACKS, STALE_PAGECACHE, WRITEBACK_PAGES, DURABLE_COMMITS, ERRORS, FRAME_TIMEOUTS,
            CONNECTIONS_REFUSED, WIRE_WRITES, WIRE_REPLIES, TLS_FAILURES, EAGAIN_LOCK, EAGAIN_ALLOC, EAGAIN_CACHE, EAGAIN_JOURNAL, EAGAIN_PAGECACHE}) {
            adders.put(name, new LongAdder());
        }
        WRITE_RULES.values().forEach(name -> adders.put(name, new LongAdder()));
    }

    /** Whether {@code name} is a level (a gauge) rather than a count of events. */
    public static boolean isLevel(String name) {
        return LEVELS.contains(name) || name.startsWith("latency_") || name.startsWith(CONNECTIONS);
    }

    /** The counter of writes decided by {@code rule}. */
    public static String writeRule(Rule rule) {
        return WRITE_RULES.get(rule);
    }

    /** A rule as users read it: {@code needs_zeroing}. */
    public static String ruleName(Rule rule) {
        return rule.name().toLowerCase(Locale.ROOT);
    }

    public void add(String name, long delta) {
        adders.computeIfAbsent(name, key -> new LongAdder()).add(delta);
    }

    public void inc(String name) {
        add(name, 1);
    }

    public long get(String name) {
        LongSupplier gauge = gauges.get(name);
        if (gauge != null) {
            return gauge.getAsLong();
        }
        LongAdder adder = adders.get(name);
        return adder == null ? 0 : adder.sum();
    }

    /** A value computed when stats are read (free blocks, journal figures). */
    public void gauge(String name, LongSupplier supplier) {
        gauges.put(name, supplier);
    }

    /** The extent cache's figures as gauges. */
    public void extentCache(ExtentCache cache) {
        gauge(ES_HITS, cache::hits);
        gauge(ES_MISSES, cache::misses);
        gauge(ES_SHRUNK, cache::shrunk);
        gauge(ES_CACHED, cache::cachedExtents);
        gauge(META_READS, cache::reads);
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        adders.forEach((name, adder) -> out.put(name, adder.sum()));
        gauges.forEach((name, gauge) -> out.put(name, gauge.getAsLong()));
        return out;
    }
}
