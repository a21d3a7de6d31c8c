package dionode.node.inode;

import dionode.node.fs.ExtentCache;
import java.util.Map;
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
    public static final String ERRORS = "errors";
    /** EAGAIN by reason ({@link #EAGAIN} stays the total): i_rwsem or the exclusive lock was needed. */
    public static final String EAGAIN_LOCK = "eagain_lock";
    /** A NOWAIT write would have allocated blocks (patch 1). */
    public static final String EAGAIN_ALLOC = "eagain_alloc";
    /** A cache-only lookup missed the extent cache (patches 7, 8). */
    public static final String EAGAIN_CACHE = "eagain_cache";
    /** No journal handle was available at once (patches 5, 9). */
    public static final String EAGAIN_JOURNAL = "eagain_journal";
    /** Extent cache figures (DESIGN §3), gauges over the volume's {@link ExtentCache}. */
    public static final String ES_HITS = "es_hits";
    public static final String ES_MISSES = "es_misses";
    public static final String ES_SHRUNK = "es_shrunk";
    public static final String ES_CACHED = "es_cached";
    public static final String META_READS = "meta_reads";
    /** Connections closed because a frame they began was not complete within the frame timeout. */
    public static final String FRAME_TIMEOUTS = "frame_timeouts";

    private final Map<String, LongAdder> adders = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> gauges = new ConcurrentHashMap<>();

    public NodeCounters() {
        for (String name : new String[] {WRITE_SHARED, WRITE_EXCLUSIVE, DIO_DRAINS, EAGAIN, ZEROED_BLOCKS, CONVERTED_BLOCKS,
            ALLOCATED_BLOCKS, DIO_IN_FLIGHT, LOCK_WAITS, LOCK_UPGRADES, JOURNAL_WAITS, ENOSPC_RETRIES, WRITES, READS, BYTES_WRITTEN,
            BYTES_READ, BUFFERED_WRITES, DURABLE_COMMITS, ERRORS, FRAME_TIMEOUTS, EAGAIN_LOCK, EAGAIN_ALLOC, EAGAIN_CACHE,
            EAGAIN_JOURNAL}) {
            adders.put(name, new LongAdder());
        }
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
