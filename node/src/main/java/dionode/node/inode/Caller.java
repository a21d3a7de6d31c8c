package dionode.node.inode;

/**
 * Who a connection's requests come from: the subject CN of the client's TLS certificate, or
 * {@link #ANONYMOUS} without one. Immutable.
 */
public record Caller(String identity) {
    public static final String ANONYMOUS_NAME = "anonymous";
    public static final Caller ANONYMOUS = new Caller(ANONYMOUS_NAME);

    /**
     * A connection's caller, known once its TLS handshake is done: set by the TLS stage before it
     * passes on the first plaintext byte, read when a request is dispatched. Thread-safe.
     */
    public static final class Ref {
        private volatile Caller caller;

        public Ref(Caller initial) {
            this.caller = initial;
        }

        /** Nobody yet: a TLS connection before its handshake. */
        public Ref() {
            this(null);
        }

        public void set(Caller who) {
            caller = who;
        }

        /** The caller, or anonymous when nobody proved to be anyone. */
        public Caller get() {
            Caller c = caller;
            return c == null ? ANONYMOUS : c;
        }
    }
}
