package dionode.node.inode;

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
    public static final String DURABLE_COMMITS = "durable_commits";
    public static final String ERRORS = "errors";
    /** Connections closed because a frame they began was not complete within the frame timeout. */
    public static final String FRAME_TIMEOUTS = "frame_timeouts";

    private final Map<String, LongAdder> adders = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> gauges = new ConcurrentHashMap<>();

    public NodeCounters() {
        for (String name : new String[] {WRITE_SHARED, WRITE_EXCLUSIVE, DIO_DRAINS, EAGAIN, ZEROED_BLOCKS, CONVERTED_BLOCKS,
            ALLOCATED_BLOCKS, DIO_IN_FLIGHT, LOCK_WAITS, LOCK_UPGRADES, JOURNAL_WAITS, ENOSPC_RETRIES, WRITES, READS, BYTES_WRITTEN,
            BYTES_READ, BUFFERED_WRITES, DURABLE_COMMITS, ERRORS, FRAME_TIMEOUTS}) {
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

    public Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        adders.forEach((name, adder) -> out.put(name, adder.sum()));
        gauges.forEach((name, gauge) -> out.put(name, gauge.getAsLong()));
        return out;
    }
}
