package dionode.node.server;

import org.apache.pekko.util.ByteString;

/**
 * Bytes on their way to TCP (empty: none) and the wire bytes of the connection's
 * {@link Allowance} that go back once TCP has taken them. Immutable.
 */
public record Outgoing(ByteString bytes, long cost) {
}
