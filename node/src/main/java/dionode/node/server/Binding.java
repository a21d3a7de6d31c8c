package dionode.node.server;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;

/**
 * A bound listener, whichever transport serves it ({@link TransportKind}). Unbinding stops
 * accepting; connections already open are served until they end. Implementations are
 * thread-safe.
 */
public interface Binding {
    /** The address actually bound (port 0 picks a free one). */
    InetSocketAddress localAddress();

    /** Stops accepting connections; completes once the listening socket is closed. */
    CompletionStage<Void> unbind();
}
