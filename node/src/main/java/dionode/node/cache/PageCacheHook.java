package dionode.node.cache;

import java.util.concurrent.CompletableFuture;

/**
 * Named injection points of the buffered paths, and patch 2's drain as a switch, for ordering
 * tests only (the journal's JournalHook is the same idea). A point returns a future the request
 * waits for, parked, so a test can hold it there without blocking an actor. The default does
 * nothing and drains.
 */
public interface PageCacheHook {

    enum Point {
        /** A direct write fell back to buffered: its pages are dirty, before their flush and invalidation. */
        FALLBACK_BEFORE_FLUSH
    }

    PageCacheHook NONE = new PageCacheHook() {
    };

    default CompletableFuture<Void> at(Point point, long ino) {
        return CompletableFuture.completedFuture(null);
    }

    /** Patch 2: a buffered write waits for direct I/O in flight first (inode_dio_wait). Off only to show the race it fixes. */
    default boolean drainBeforeBufferedWrite() {
        return true;
    }
}
