package dionode.node.cluster;

import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import scala.collection.immutable.IndexedSeq;
import org.apache.pekko.dispatch.Futures;
import scala.concurrent.Future;

/**
 * Where a shard may live: a shard is a volume (DESIGN §7), and only the member that mounts that
 * volume has its device, so the shard goes to that member's region and nowhere else. While no up
 * member announces the volume, allocation fails and the coordinator retries at the regions' next
 * request; no shard is ever moved (rebalance gives nothing), so a returning node serves its files
 * again where they always were. Runs in the coordinator; thread-safe (reads the cluster's
 * immutable state snapshot).
 */
final class VolumeAllocation extends ShardCoordinator.AbstractShardAllocationStrategy {
    private final ActorSystem system;

    VolumeAllocation(ActorSystem system) {
        this.system = system;
    }

    @Override
    public Future<ActorRef> allocateShard(ActorRef requester, String volume, Map<ActorRef, IndexedSeq<String>> current) {
        Cluster cluster = Cluster.get(system);
        for (Member m : cluster.state().getMembers()) {
            if (m.status() == MemberStatus.up() && m.hasRole(VolumeView.ROLE_PREFIX + volume)) {
                for (ActorRef region : current.keySet()) {
                    if (addressOf(region, cluster).equals(m.address())) {
                        return Futures.successful(region);
                    }
                }
            }
        }
        return Futures.failed(new IllegalStateException("no up member serves volume " + volume + " yet"));
    }

    @Override
    public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> current, Set<String> inProgress) {
        return Futures.successful(Set.of());
    }

    /** A region's member address; the coordinator's own member's region has a local path. */
    private static Address addressOf(ActorRef region, Cluster cluster) {
        Address a = region.path().address();
        return a.hasLocalScope() ? cluster.selfAddress() : a;
    }
}
