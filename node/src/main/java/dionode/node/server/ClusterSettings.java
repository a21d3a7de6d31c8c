package dionode.node.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dionode.protocol.util.HostPort;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The Pekko settings that make the ActorSystem a cluster member (DESIGN §7): the cluster
 * provider, Artery TCP on the bind address, the seed nodes, the split brain resolver with
 * keep-majority, and the role that announces the volume this node mounts. Stateless.
 */
public final class ClusterSettings {
    /** The ActorSystem's name: part of every member's address, so all nodes must share it. */
    public static final String SYSTEM_NAME = "dionode";
    /** A member's role that names the volume it mounts: {@code volume-<uuid>}. */
    public static final String VOLUME_ROLE_PREFIX = "volume-";

    private ClusterSettings() {
    }

    /** The settings over {@code base}; {@code base} itself when {@code cluster} is not enabled (a lone node, local provider). */
    public static Config apply(NodeConfig.ClusterConfig cluster, UUID volume, Config base) {
        if (!cluster.enabled()) {
            return base;
        }
        Map<String, Object> s = new HashMap<>();
        s.put("pekko.actor.provider", "cluster");
        s.put("pekko.remote.artery.transport", "tcp");
        s.put("pekko.remote.artery.canonical.hostname", cluster.bind().host());
        s.put("pekko.remote.artery.canonical.port", cluster.bind().port());
        s.put("pekko.cluster.seed-nodes", cluster.seeds().stream().map(ClusterSettings::address).toList());
        s.put("pekko.cluster.roles", List.of(VOLUME_ROLE_PREFIX + volume));
        s.put("pekko.cluster.downing-provider-class", "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider");
        s.put("pekko.cluster.split-brain-resolver.active-strategy", "keep-majority");
        s.put("pekko.cluster.split-brain-resolver.stable-after", cluster.stableAfter().toMillis() + "ms");
        // a downed node keeps its ActorSystem, so it goes on serving its own volume (nothing is sharded yet); it rejoins on restart
        s.put("pekko.cluster.run-coordinated-shutdown-when-down", "off");
        s.put("pekko.cluster.log-info-verbose", "off");
        return ConfigFactory.parseMap(s, "serve --cluster-bind").withFallback(base);
    }

    /** A seed's cluster address: {@code pekko://dionode@host:port}. */
    static String address(HostPort seed) {
        String host = seed.host().contains(":") ? "[" + seed.host() + "]" : seed.host();
        return "pekko://" + SYSTEM_NAME + "@" + host + ":" + seed.port();
    }
}
