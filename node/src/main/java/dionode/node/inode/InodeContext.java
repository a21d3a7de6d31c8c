package dionode.node.inode;

import dionode.node.fs.Volume;
import java.time.Duration;

/**
 * What every inode actor shares: the volume, the data path, the counters and limits. Immutable
 * holder of thread-safe parts.
 *
 * @param maxWaiters bound on requests parked per inode (lock queue, journal waits); more are EAGAIN
 * @param idleTimeout an actor with nothing in flight for this long is passivated
 */
public record InodeContext(Volume volume, DataPath data, NodeCounters counters, int maxWaiters, Duration idleTimeout) {
}
