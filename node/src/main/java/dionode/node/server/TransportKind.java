package dionode.node.server;

/**
 * What carries a listener's bytes under its Pekko Streams connection flow ({@code serve
 * --transport}). Both run the same flow; they differ in the threads a request crosses.
 */
public enum TransportKind {
    /**
     * A reader thread per connection blocked in epoll on its own socket, feeding the flow, and
     * replies written straight from the flow's stage with non-blocking writes ({@link SocketStage}):
     * one thread wake-up to take a request in, none to send its reply.
     */
    NIO("nio"),
    /**
     * Pekko's {@code Tcp}: a selector actor and a connection actor per socket, messages between
     * them and the flow for every read and every write.
     */
    PEKKO("pekko");

    private final String cliName;

    TransportKind(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static TransportKind parse(String name) {
        for (TransportKind kind : values()) {
            if (kind.cliName.equals(name)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown transport '" + name + "' (expected nio or pekko)");
    }

    @Override
    public String toString() {
        return cliName;
    }
}
