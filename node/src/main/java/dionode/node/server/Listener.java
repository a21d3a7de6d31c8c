package dionode.node.server;

import dionode.protocol.util.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;

/**
 * A TCP listener of the node, on either transport ({@link TransportKind}). It serves at most
 * {@code maxConnections} connections at once. Past that, {@code nio} accepts and closes at once
 * (counted by {@code refused}); {@code pekko} accepts no more, and further clients wait in the
 * kernel's accept backlog until one closes (backpressure on accept, as
 * on everything else). A failure to bind is said in the user's terms: {@code cannot listen on
 * 127.0.0.1:7070: address already in use}. Stateless; thread-safe.
 */
public final class Listener {
    private Listener() {
    }

    /**
     * Binds {@code host:port} and serves each connection with a flow from {@code flows} (one per
     * connection) until the binding is unbound; {@code nio} tells {@code writes} of every write
     * that sends replies (Pekko's TCP stage counts none).
     */
    public static CompletionStage<Binding> bind(ActorSystem<?> system, TransportKind kind, String host, int port, int maxConnections,
            Supplier<Flow<ByteString, ByteString, NotUsed>> flows, Runnable refused, ReplyGather.Writes writes) {
        if (kind == TransportKind.NIO) {
            return NioListener.bind(host, port, maxConnections, flows, refused, writes, Materializer.matFromSystem(system));
        }
        return Tcp.get(system).bind(host, port)
                .mapAsyncUnordered(maxConnections, conn -> conn.handleWith(flows.get().watchTermination(Keep.right()), system)
                        // a connection that fails frees its slot like one that ends; it must not end the listener
                        .handle((done, failure) -> Done.done()))
                .to(Sink.ignore())
                .run(system)
                .thenApply(PekkoBinding::new);
    }

    /** Pekko's binding as a {@link Binding}. */
    private record PekkoBinding(Tcp.ServerBinding binding) implements Binding {
        @Override
        public InetSocketAddress localAddress() {
            return binding.localAddress();
        }

        @Override
        public CompletionStage<Void> unbind() {
            return binding.unbind().thenApply(unit -> null);
        }
    }

    /** Waits for a binding: the bound listener, or an IOException naming the address and the reason. */
    public static Binding await(CompletionStage<Binding> binding, String host, int port)
            throws IOException, InterruptedException {
        try {
            return binding.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException("cannot listen on " + address(host, port) + ": " + reason(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("cannot listen on " + address(host, port) + ": no answer from the network layer in 30 s", e);
        }
    }

    /** {@code host:port}, an IPv6 host in brackets. */
    public static String address(String host, int port) {
        return new HostPort(host, port).toString();
    }

    /** The operating system's reason (e.g. "address already in use"), found under Pekko's wrapper exception. */
    private static String reason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException) {
                return "unknown host";
            }
            if (t instanceof SocketException && t.getMessage() != null) {
                // Pekko puts the address in front, "[/127.0.0.1:7070] Address already in use": it is said already
                String m = t.getMessage().replaceFirst("^\\[[^\\]]*\\]\\s*", "");
                if (!m.isEmpty()) {
                    return Character.toLowerCase(m.charAt(0)) + m.substring(1);
                }
            }
        }
        return "bind failed";
    }
}
