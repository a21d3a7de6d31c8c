package dionode.node.server;

import dionode.node.inode.NodeCounters;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;

/**
 * What every listener of one node shares: its {@link WireLimits}, the transport under its flows, the node-wide
 * {@link WireBudget} their connections draw on, the counters where frame timeouts, refused
 * connections and TLS failures are counted, and its TLS setup. Immutable; the budget and counters are thread-safe.
 */
public record Transport(WireLimits limits, WireBudget budget, NodeCounters counters, TransportKind kind, NodeTls tls) {

    public static Transport of(WireLimits limits, NodeCounters counters, TransportKind kind) {
        return of(limits, counters, kind, null);
    }

    /** With {@code tls} (null: plain text) on the native listener; NBD starts it within its handshake. */
    public static Transport of(WireLimits limits, NodeCounters counters, TransportKind kind, NodeTls tls) {
        return new Transport(limits, new WireBudget(limits.nodeBytes()), counters, kind, tls);
    }

    /** A new connection's allowance, capped at {@code cap} bytes. */
    public Allowance allowance(long cap) {
        return new Allowance(budget, cap, WireLimits.FREE_BYTES_PER_CONNECTION);
    }

    /**
     * A listener of {@code protocol} ({@code native}, {@code nbd}) on this transport: at most the
     * limits' connections at once, each counted in {@code connections_<protocol>} while it is open.
     */
    public CompletionStage<Binding> bind(ActorSystem<?> system, String protocol, String host, int port,
            Supplier<Flow<ByteString, ByteString, NotUsed>> flows) {
        String open = NodeCounters.CONNECTIONS + protocol;
        counters.add(open, 0);
        return Listener.bind(system, kind, host, port, limits.maxConnections(), () -> flows.get().watchTermination((mat, done) -> {
            counters.add(open, 1);
            done.whenComplete((ended, failure) -> counters.add(open, -1));
            return mat;
        }), () -> counters.inc(NodeCounters.CONNECTIONS_REFUSED), replies -> {
            counters.inc(NodeCounters.WIRE_WRITES);
            counters.add(NodeCounters.WIRE_REPLIES, replies);
        });
    }

    /** A frame begun was not complete within the frame timeout: its connection is closed. */
    public void frameTimedOut() {
        counters.inc(NodeCounters.FRAME_TIMEOUTS);
    }
}
