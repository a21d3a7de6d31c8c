package dionode.node.journal;

import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One transaction. While running, handles on several threads add blocks and callbacks to it at
 * once (concurrent collections; {@link TxnState} admits them). The journal thread snapshots it
 * only after locking it and seeing no handle open in it, and owns it from then on: every change
 * a handle made happens-before its close, whose update of the state word the journal thread reads.
 */
final class Txn {

    /** A block registered in this transaction: the caller's live image and its sealer. */
    static final class Entry {
        final byte[] live;
        /** The last non-null sealer any handle gave; handles of several threads may set it. */
        volatile Sealer sealer;

        Entry(byte[] live, Sealer sealer) {
            this.live = live;
            this.sealer = sealer;
        }
    }

    final long tid;
    final TxnState state;
    private final ConcurrentHashMap<Long, Entry> blocks = new ConcurrentHashMap<>();
    /** Home blocks in the order they joined: the order of the log's tags. */
    private final Queue<Long> order = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    final Queue<Runnable> afterCommit = new ConcurrentLinkedQueue<>();
    final Queue<Runnable> afterCheckpoint = new ConcurrentLinkedQueue<>();
    /** Clock millis of the first change (block or callback), -1 while untouched. */
    private final AtomicLong firstChangeMillis = new AtomicLong(-1);

    // Set by the snapshot, read by the journal thread.
    long[] homes;
    byte[][] images;

    Txn(long tid, boolean locked) {
        this.tid = tid;
        this.state = new TxnState(locked);
    }

    /** The entry of {@code home}, or null if no handle registered it. */
    Entry entry(long home) {
        return blocks.get(home);
    }

    /** Registers {@code entry} for {@code home} unless a handle did first; returns the entry that is registered. */
    Entry register(long home, Entry entry) {
        Entry first = blocks.putIfAbsent(home, entry);
        if (first != null) {
            return first;
        }
        order.add(home);
        size.incrementAndGet();
        return entry;
    }

    /** Notes the first change; the commit interval runs from it. */
    void touch(long nowMillis) {
        firstChangeMillis.compareAndSet(-1, nowMillis);
    }

    long firstChangeMillis() {
        return firstChangeMillis.get();
    }

    boolean isEmpty() {
        return size.get() == 0 && afterCommit.isEmpty() && afterCheckpoint.isEmpty();
    }

    boolean hasBlocks() {
        return size.get() > 0;
    }

    int size() {
        return size.get();
    }

    /**
     * Seals every live image and copies it. The caller locked the transaction and saw no handle
     * open in it (and the next one is not running yet), so the copies sit on handle boundaries.
     */
    void snapshot() {
        int count = size.get();
        homes = new long[count];
        images = new byte[count][];
        int index = 0;
        for (long home : order) {
            Entry entry = blocks.get(home);
            Sealer sealer = entry.sealer;
            if (sealer != null) {
                sealer.seal(home, entry.live);
            }
            homes[index] = home;
            images[index] = entry.live.clone();
            index++;
        }
    }
}
