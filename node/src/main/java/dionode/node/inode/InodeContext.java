package dionode.node.inode;

import dionode.node.cache.PageCache;
import dionode.node.cache.PageCacheHook;
import dionode.node.fs.Volume;
import java.time.Duration;

/**
 * What every inode actor shares: the volume, the data path, the counters and limits. Immutable
 * holder of thread-safe parts.
 *
 * @param maxWaiters bound on requests parked per inode (lock queue, journal waits); more are EAGAIN
 * @param idleTimeout an actor with nothing in flight for this long is passivated
 * @param dax the DAX files' data path (through the device's mapping), or null when the device is not mapped
 * @param daxRefusal why there is no DAX data path (what a DAX file's data requests answer), or null
 * @param access who may do what to a file
 * @param cache the page cache the buffered paths go through
 * @param cacheHook the buffered paths' injection points (tests only; {@link PageCacheHook#NONE})
 */
public record InodeContext(Volume volume, DataPath data, NodeCounters counters, int maxWaiters, Duration idleTimeout,
        DataPath dax, String daxRefusal, AccessRules access, PageCache cache, PageCacheHook cacheHook) {
}
