package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dionode.protocol.util.HostPort;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The Pekko settings serve --cluster-bind gives the ActorSystem, and none without it. */
class ClusterSettingsTest {
    private static final UUID VOLUME = UUID.fromString("0f8e2c1a-5b6d-4e7f-9a0b-1c2d3e4f5a6b");

    @Test
    void aLoneNodeKeepsItsConfigAsItIs() {
        Config base = ConfigFactory.load();
        assertSame(base, ClusterSettings.apply(NodeConfig.ClusterConfig.NONE, VOLUME, base));
        assertEquals("local", base.getString("pekko.actor.provider"));
    }

    @Test
    void aMemberBindsArteryJoinsItsSeedsAnnouncesItsVolumeAndKeepsTheMajority() {
        NodeConfig.ClusterConfig cluster = NodeConfig.ClusterConfig.of(new HostPort("127.0.0.1", 25521),
                List.of(new HostPort("127.0.0.1", 25520), new HostPort("::1", 25522)));
        Config c = ClusterSettings.apply(cluster, VOLUME, ConfigFactory.load());
        assertEquals("cluster", c.getString("pekko.actor.provider"));
        assertEquals("tcp", c.getString("pekko.remote.artery.transport"));
        assertEquals("127.0.0.1", c.getString("pekko.remote.artery.canonical.hostname"));
        assertEquals(25521, c.getInt("pekko.remote.artery.canonical.port"));
        assertEquals(List.of("pekko://dionode@127.0.0.1:25520", "pekko://dionode@[::1]:25522"),
                c.getStringList("pekko.cluster.seed-nodes"));
        assertEquals(List.of("volume-" + VOLUME), c.getStringList("pekko.cluster.roles"));
        assertEquals("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider", c.getString("pekko.cluster.downing-provider-class"));
        assertEquals("keep-majority", c.getString("pekko.cluster.split-brain-resolver.active-strategy"));
        assertEquals(Duration.ofSeconds(7), c.getDuration("pekko.cluster.split-brain-resolver.stable-after"));
        assertEquals(false, c.getBoolean("pekko.cluster.run-coordinated-shutdown-when-down"));
        // the rest of application.conf still applies
        assertEquals("INFO", c.getString("pekko.loglevel"));
        // Pekko's internals join the actors on the event loops, but the logger actor, which may block on the console,
        // runs on the pool for blocking I/O, a thread pool of its own
        assertEquals("pekko.actor.default-dispatcher", c.getString("pekko.actor.internal-dispatcher"));
        assertEquals("pekko.actor.default-dispatcher", c.getString("pekko.cluster.sharding.use-dispatcher"));
        assertEquals("pekko.actor.default-blocking-io-dispatcher", c.getString("pekko.loggers-dispatcher"));
        assertEquals("thread-pool-executor", c.getString("pekko.actor.default-blocking-io-dispatcher.executor"));
    }
}
