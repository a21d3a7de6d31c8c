package dionode.node.journal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * One transaction. While running it is guarded by the journal's metadata lock; once
 * snapshotted (under that lock) it belongs to the journal thread.
 */
final class Txn {

    /** A block registered in this transaction: the caller's live image and its sealer. */
    static final class Entry {
        final byte[] live;
        Sealer sealer;

        Entry(byte[] live, Sealer sealer) {
            this.live = live;
            this.sealer = sealer;
        }
    }

    final long tid;
    final LinkedHashMap<Long, Entry> blocks = new LinkedHashMap<>();
    final List<Runnable> afterCommit = new ArrayList<>();
    final List<Runnable> afterCheckpoint = new ArrayList<>();
    /** Clock millis of the first change (block or callback), -1 while untouched. */
    long firstChangeMillis = -1;

    // Set by the snapshot, read by the journal thread.
    long[] homes;
    byte[][] images;

    Txn(long tid) {
        this.tid = tid;
    }

    boolean isEmpty() {
        return blocks.isEmpty() && afterCommit.isEmpty() && afterCheckpoint.isEmpty();
    }

    int size() {
        return blocks.size();
    }

    /**
     * Seals every live image and copies it. Caller holds the metadata lock, so the copies
     * sit on handle boundaries.
     */
    void snapshot() {
        homes = new long[blocks.size()];
        images = new byte[blocks.size()][];
        int index = 0;
        for (var block : blocks.entrySet()) {
            long home = block.getKey();
            Entry entry = block.getValue();
            if (entry.sealer != null) {
                entry.sealer.seal(home, entry.live);
            }
            homes[index] = home;
            images[index] = entry.live.clone();
            index++;
        }
    }
}
