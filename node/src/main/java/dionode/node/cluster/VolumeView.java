package dionode.node.cluster;

import dionode.protocol.FileId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Which member serves which volume, as this member's cluster extension sees it now: each member
 * announces its volume in the role {@code volume-<uuid>}. Thread-safe: every answer reads the
 * extension's latest immutable state snapshot (and a concurrent map of the tags seen).
 */
public final class VolumeView {
    /** A member's role that names the volume it mounts: {@code volume-<uuid>}. */
    public static final String ROLE_PREFIX = "volume-";

    /**
     * The member serving a volume.
     *
     * @param address its cluster address, as {@code members} lists it
     * @param status  Pekko's member status lower-cased, {@code up} while it serves
     */
    public record Owner(String volume, String address, String status, boolean reachable) {
        /** Up and reachable: a request sent to it is expected to be answered. */
        public boolean serving() {
            return "up".equals(status) && reachable;
        }
    }

    private final ActorSystem<?> system;
    private final String localVolume;
    /** Tags of the volumes seen so far: a tag is a hash of the uuid, worth computing once, not per request and member. */
    private final Map<Long, String> volumeOfTag = new ConcurrentHashMap<>();

    public VolumeView(ActorSystem<?> system, String localVolume) {
        this.system = system;
        this.localVolume = localVolume;
    }

    public String localVolume() {
        return localVolume;
    }

    /** The member whose volume has handles tagged {@code tag}, or null when no member announces it. */
    public Owner ownerOfTag(long tag) {
        String known = volumeOfTag.get(tag);
        if (known != null) {
            return ownerOf(known);
        }
        for (Owner o : owners()) {
            long t = FileId.volumeTag(o.volume());
            volumeOfTag.putIfAbsent(t, o.volume());
            if (t == tag) {
                return o;
            }
        }
        return null;
    }

    /** The member serving {@code volume}, or null when none announces it. */
    public Owner ownerOf(String volume) {
        for (Owner o : owners()) {
            if (o.volume().equals(volume)) {
                return o;
            }
        }
        return null;
    }

    /** The volumes of members that are up and reachable, this member's always among them. */
    public List<String> volumesServing() {
        Set<String> up = new HashSet<>();
        up.add(localVolume);
        for (Owner o : owners()) {
            if (o.serving()) {
                up.add(o.volume());
            }
        }
        List<String> sorted = new ArrayList<>(up);
        sorted.sort(null);
        return sorted;
    }

    /** Every member that announces a volume, those serving first: a volume listed twice (a restarted node joining while its old incarnation is still listed) answers from the one serving. */
    private List<Owner> owners() {
        ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
        Set<Member> unreachable = new HashSet<>(state.getUnreachable());
        List<Owner> owners = new ArrayList<>();
        for (Member m : state.getMembers()) {
            String volume = volumeOf(m);
            if (!volume.isEmpty()) {
                owners.add(new Owner(volume, m.address().toString(), status(m), !unreachable.contains(m)));
            }
        }
        owners.sort((a, b) -> Boolean.compare(b.serving(), a.serving()));
        return owners;
    }

    /** The volume id a member announced in its {@code volume-<uuid>} role, or empty. */
    public static String volumeOf(Member m) {
        for (String role : m.getRoles()) {
            if (role.startsWith(ROLE_PREFIX)) {
                return role.substring(ROLE_PREFIX.length());
            }
        }
        return "";
    }

    /** Pekko's status as the wire names it: {@code Up} → {@code up}, {@code WeaklyUp} → {@code weakly-up}. */
    public static String status(Member m) {
        return m.status().toString().replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }
}
