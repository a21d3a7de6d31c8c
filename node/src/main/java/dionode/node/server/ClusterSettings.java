package dionode.node.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dionode.node.cluster.VolumeView;
import dionode.protocol.util.HostPort;
import dionode.protocol.wire.Wire;
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
        s.put("pekko.cluster.roles", List.of(VolumeView.ROLE_PREFIX + volume));
        s.put("pekko.cluster.downing-provider-class", "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider");
        s.put("pekko.cluster.split-brain-resolver.active-strategy", "keep-majority");
        s.put("pekko.cluster.split-brain-resolver.stable-after", cluster.stableAfter().toMillis() + "ms");
        // a downed node keeps its ActorSystem, so it goes on serving its own volume (no shard ever moves); it rejoins on restart
        s.put("pekko.cluster.run-coordinated-shutdown-when-down", "off");
        s.put("pekko.cluster.log-info-verbose", "off");
        // requests and replies between members travel in the native protocol's codec, never Java serialization
        s.put("pekko.actor.serializers.dionode", "dionode.node.cluster.ClusterWireSerializer");
        // a write or read carries up to Wire.MAX_IO_BYTES: such messages go on Artery's large-message stream, whose
        // buffers are that big, so the ordinary stream keeps its small frames and cluster heartbeats never wait behind data
        s.put("pekko.remote.artery.large-message-destinations", List.of("/system/sharding/inode", "/temp/*"));
        s.put("pekko.remote.artery.advanced.maximum-large-frame-size", (Wire.MAX_IO_BYTES + (1 << 20)) + "b");
        s.put("pekko.remote.artery.advanced.large-buffer-pool-size", 8);
        // requests for a shard whose home is not known yet wait here, bounded; past it they are dropped (and time out)
        s.put("pekko.cluster.sharding.buffer-size", 4096);
        // the coordinator's state needs a plain majority (Pekko's defaults, majority + 3 and at least 5, are every member
        // of a small cluster: with one member unreachable no shard could be placed); keep-majority never lets two live
        s.put("pekko.cluster.sharding.coordinator-state.write-majority-plus", 0);
        s.put("pekko.cluster.sharding.coordinator-state.read-majority-plus", 0);
        s.put("pekko.cluster.sharding.distributed-data.majority-min-cap", 1);
        // a forwarded request crosses Artery's streams, the sharding region and shard actors and Pekko's internals on
        // both members: on the event loops that already run the actors they skip the hand-offs to Pekko's own pools
        // (bench-hop.sh, DESIGN §7: forwarded IOPS +60% at 1 job, +40% at 16); none of them blocks (the logger actor,
        // which may, has the blocking-I/O pool: application.conf)
        s.put("pekko.remote.artery.advanced.use-dispatcher", "pekko.actor.default-dispatcher");
        s.put("pekko.remote.artery.advanced.use-control-stream-dispatcher", "pekko.actor.default-dispatcher");
        s.put("pekko.cluster.sharding.use-dispatcher", "pekko.actor.default-dispatcher");
        s.put("pekko.actor.internal-dispatcher", "pekko.actor.default-dispatcher");
        Config bindings = ConfigFactory.parseString("pekko.actor.serialization-bindings {\n"
                + "  \"dionode.node.cluster.DoorCommand$RemoteOp\" = dionode\n"
                + "  \"dionode.protocol.message.Reply\" = dionode\n}");
        return ConfigFactory.parseMap(s, "serve --cluster-bind").withFallback(bindings).withFallback(base);
    }

    /** A seed's cluster address: {@code pekko://dionode@host:port}. */
    static String address(HostPort seed) {
        String host = seed.host().contains(":") ? "[" + seed.host() + "]" : seed.host();
        return "pekko://" + SYSTEM_NAME + "@" + host + ":" + seed.port();
    }
}
