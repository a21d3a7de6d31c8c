package dionode.protocol.client;

import dionode.protocol.Errno;
import java.io.IOException;
import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * A failed request: the node's {@link dionode.protocol.message.Reply.Error errno and message}, or a client-side failure
 * expressed the same way ({@code EIO} connection closed or lost, {@code EBADMSG} malformed reply,
 * {@code EINVAL} message too big for a frame, {@code EAGAIN} no slot could be waited for).
 * {@link #getMessage()} reads like {@code "EAGAIN: would block"}.
 *
 * <p>Immutable once thrown (apart from {@link Throwable}'s own suppressed/stack-trace state).
 * Exceptions built for replies on the reader thread carry no stack trace: it would only show the
 * reader loop; {@code join()} wraps them in a {@code CompletionException} that has the caller's.
 *
 * @see dionode.protocol.message.Reply.Error
 */
public final class NodeException extends RuntimeException {
    private final Errno errno;
    private final String detail;

    public NodeException(Errno errno, String detail) {
        this(errno, detail, null, true);
    }

    public NodeException(Errno errno, String detail, Throwable cause) {
        this(errno, detail, cause, true);
    }

    NodeException(Errno errno, String detail, Throwable cause, boolean writableStackTrace) {
        super(format(errno, detail), cause, true, writableStackTrace);
        this.errno = Objects.requireNonNull(errno, "errno");
        this.detail = detail == null ? "" : detail;
    }

    /** A stackless exception for a failure found on the reader thread. */
    static NodeException stackless(Errno errno, String detail) {
        return new NodeException(errno, detail, null, false);
    }

    /**
     * EIO for a connection that failed under the client: the failure in words, without its class;
     * a TLS failure says so, since a node that refuses a client's certificate (or its lack of
     * one) ends the connection right after the handshake.
     */
    static NodeException lost(String endpoint, IOException e) {
        String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        if (e instanceof SSLException) {
            why = "TLS: " + why + " (does the node accept this client's certificate, and this client the node's?)";
        }
        return new NodeException(Errno.EIO, "connection to " + endpoint + " lost: " + why, e, false);
    }

    /** A fresh stackless copy, so futures never share one exception instance. */
    NodeException copy() {
        return new NodeException(errno, detail, getCause(), false);
    }

    public Errno errno() {
        return errno;
    }

    /** The node's (or the client's) message without the errno prefix; never null. */
    public String detail() {
        return detail;
    }

    private static String format(Errno errno, String detail) {
        String name = errno == null ? "null" : errno.name();
        return detail == null || detail.isEmpty() ? name : name + ": " + detail;
    }
}
