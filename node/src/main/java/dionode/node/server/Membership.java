package dionode.node.server;

import dionode.node.cluster.VolumeView;
import dionode.protocol.message.Reply;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The answer to {@code members}: the cluster's members as this node's cluster extension sees
 * them now, this node always among them (a node that was downed or left says {@code removed}), or,
 * for a node without a cluster, the node itself (up, reachable, at its native address). Thread-safe: the cluster state is an immutable snapshot the extension republishes.
 */
public final class Membership implements Supplier<Reply.Members> {
    private final ActorSystem<?> system;
    private final boolean clustered;
    private final String volume;
    private final Supplier<InetSocketAddress> nativeAddress;

    /**
     * @param nativeAddress where the native listener is bound, the lone node's address (asked at each answer:
     *                      the listener binds after the dispatcher exists)
     */
    public Membership(ActorSystem<?> system, boolean clustered, String volume, Supplier<InetSocketAddress> nativeAddress) {
        this.system = system;
        this.clustered = clustered;
        this.volume = volume;
        this.nativeAddress = nativeAddress;
    }

    /** The volume this node mounts (its uuid). */
    public String volume() {
        return volume;
    }

    /** The answer to {@code members}: {@link #members()} and this node's volume. */
    @Override
    public Reply.Members get() {
        return new Reply.Members(members(), volume);
    }

    /** This node's address as {@code members} lists it: its cluster address, or its native listener's alone. */
    public String selfAddress() {
        if (clustered) {
            return Cluster.get(system).selfMember().address().toString();
        }
        InetSocketAddress a = nativeAddress.get();
        return a == null ? "" : a.getHostString() + ":" + a.getPort();
    }

    /** The members as this node sees them now. */
    public List<Reply.Member> members() {
        if (!clustered) {
            return List.of(new Reply.Member(selfAddress(), volume, "up", true));
        }
        Cluster cluster = Cluster.get(system);
        ClusterEvent.CurrentClusterState state = cluster.state();
        Set<Member> unreachable = new HashSet<>(state.getUnreachable());
        List<Reply.Member> members = new ArrayList<>();
        boolean selfListed = false;
        for (Member m : state.getMembers()) {
            members.add(new Reply.Member(m.address().toString(), VolumeView.volumeOf(m), VolumeView.status(m), !unreachable.contains(m)));
            selfListed |= m.uniqueAddress().equals(cluster.selfMember().uniqueAddress());
        }
        if (!selfListed) {
            // a node downed or left (its cluster extension stopped, its volume still served) or not yet joined: say so, not []
            Member self = cluster.selfMember();
            members.add(new Reply.Member(self.address().toString(), VolumeView.volumeOf(self), cluster.isTerminated() ? "removed" : VolumeView.status(self),
                    true));
        }
        return members;
    }

}
