package dionode.node.server;

import dionode.node.inode.NodeCounters;

/**
 * What every listener of one node shares: its {@link WireLimits}, the transport under its flows, the node-wide
 * {@link WireBudget} their connections draw on, and the counters where frame timeouts are
 * counted. Immutable; the budget and counters are thread-safe.
 */
public record Transport(WireLimits limits, WireBudget budget, NodeCounters counters, TransportKind kind) {

    public static Transport of(WireLimits limits, NodeCounters counters, TransportKind kind) {
        return new Transport(limits, new WireBudget(limits.nodeBytes()), counters, kind);
    }

    /** A new connection's allowance, capped at {@code cap} bytes. */
    public Allowance allowance(long cap) {
        return new Allowance(budget, cap, WireLimits.FREE_BYTES_PER_CONNECTION);
    }

    /** A frame begun was not complete within the frame timeout: its connection is closed. */
    public void frameTimedOut() {
        counters.inc(NodeCounters.FRAME_TIMEOUTS);
    }
}
