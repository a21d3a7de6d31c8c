package dionode.node.journal;

/**
 * The journal stopped at its first device error and fails every later commit, checkpoint
 * and handle with this exception (fail sticky). {@link #getCause()} is that first error.
 * Nothing after the error is durable; the node goes read-only ({@code EROFS}).
 *
 * <p>Immutable.
 */
public class JournalAbortedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JournalAbortedException(String message, Throwable cause) {
        super(message, cause);
    }

    /** What a journal that failed on {@code cause} throws at every later caller. */
    static JournalAbortedException after(Throwable cause) {
        return new JournalAbortedException("journal aborted after a device error: " + cause, cause);
    }
}
