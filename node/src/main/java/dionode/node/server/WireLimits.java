package dionode.node.server;

import java.time.Duration;

/**
 * How much memory and time the wire may take (DESIGN §6, "Worst-case memory"). Every byte a
 * connection makes the node hold is counted from the moment it is read (or, for the rest of a
 * frame and for a reply, before it may come) until TCP has taken the reply: frames being received,
 * requests in the node, replies not yet written. Immutable.
 *
 * @param frameTimeout a frame begun but not complete after this long closes its connection
 *     ({@code serve --frame-timeout})
 * @param nodeBytes the node-wide budget W on those bytes over every connection; a connection that
 *     needs more than its free {@link #FREE_BYTES_PER_CONNECTION} stops reading until W has room
 *     ({@code --wire-buffer})
 * @param connectionBytes the cap on one native connection's bytes: beyond it the connection stops
 *     reading until its replies are taken ({@code --connection-buffer})
 * @param maxConnections connections served at once by each listener; more are refused (closed at
 *     once and counted, transport nio) or wait in the kernel's accept backlog (pekko)
 *     ({@code --max-connections})
 */
public record WireLimits(Duration frameTimeout, long nodeBytes, long connectionBytes, int maxConnections) {
    public static final Duration DEFAULT_FRAME_TIMEOUT = Duration.ofSeconds(30);
    /** Room for three 8 MiB reads in flight per connection, or one largest frame and its reply. */
    public static final long DEFAULT_CONNECTION_BYTES = 32L << 20;
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
    /**
     * Bytes a connection holds without drawing on W, so a client with a few small requests in
     * flight is served even while W is spent (by stalled frames or unread replies of others).
     */
    public static final long FREE_BYTES_PER_CONNECTION = 64 << 10;
    /** Pekko's TCP read size ({@code pekko.io.tcp.direct-buffer-size}): a read is counted once it has arrived. */
    public static final long READ_BYTES = 128 << 10;
    /**
     * Heap of one open connection apart from its wire bytes: Pekko's connection actor and stream
     * stages (about 11 KiB measured on an idle connection) and its TCP stage's 16 KiB write buffer.
     */
    public static final long CONNECTION_STATE_BYTES = 32 << 10;

    public WireLimits {
        if (frameTimeout.isNegative() || frameTimeout.isZero()) {
            throw new IllegalArgumentException("the frame timeout must be positive, not " + frameTimeout);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("--max-connections must be at least 1, not " + maxConnections);
        }
        if (nodeBytes < connectionBytes) {
            throw new IllegalArgumentException("the wire buffer (" + nodeBytes + " bytes) is smaller than one connection's ("
                    + connectionBytes + " bytes)");
        }
    }

    /** Defaults for this JVM's heap ({@link #forHeap}). */
    public static WireLimits defaults() {
        return forHeap(Runtime.getRuntime().maxMemory());
    }

    /** W is a quarter of the heap (at least one connection's cap); see DESIGN for why that keeps the total under it. */
    public static WireLimits forHeap(long heapBytes) {
        return new WireLimits(DEFAULT_FRAME_TIMEOUT, Math.max(heapBytes / 4, DEFAULT_CONNECTION_BYTES), DEFAULT_CONNECTION_BYTES,
                DEFAULT_MAX_CONNECTIONS);
    }

    /** The smallest connection cap that holds the largest frame, its reply and the reads around it. */
    public static long minConnectionBytes(int maxPayload) {
        return maxPayload + (1L << 20);
    }

    /**
     * Worst-case heap the wire can hold: W, plus per connection of each listener its free bytes,
     * one read counted after it arrived beyond W, one read ahead in Pekko's TCP stage and its
     * state, plus Kryo's transient copies while decoding (up to three times a body: the body, a
     * char[] of its string, the string) on each stream thread.
     */
    public long worstCaseBytes(int listeners, int maxPayload, int streamThreads) {
        return nodeBytes + (long) listeners * maxConnections * (FREE_BYTES_PER_CONNECTION + 2 * READ_BYTES + CONNECTION_STATE_BYTES)
                + 3L * maxPayload * streamThreads;
    }

    public WireLimits withFrameTimeout(Duration d) {
        return new WireLimits(d, nodeBytes, connectionBytes, maxConnections);
    }

    public WireLimits withBytes(long node, long connection) {
        return new WireLimits(frameTimeout, node, connection, maxConnections);
    }

    public WireLimits withMaxConnections(int n) {
        return new WireLimits(frameTimeout, nodeBytes, connectionBytes, n);
    }
}
