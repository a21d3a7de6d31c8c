package dionode.node.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener of {@link TransportKind#NIO}: an accept thread ({@code dionode-accept-PORT}) that
 * takes a connection slot, accepts, and joins the socket's {@link SocketStage} with a new
 * connection flow. At most {@code maxConnections} are open at once; one more is accepted and
 * closed at once, and counted ({@code refused}): clients that open connections without finishing
 * them cannot make the ones already served wait, nor queue behind them. Thread-safe.
 */
final class NioListener implements Binding {
    private static final Logger LOG = LoggerFactory.getLogger(NioListener.class);
    private static final int BACKLOG = 128;

    private final ServerSocketChannel server;
    private final InetSocketAddress address;
    private final Semaphore slots;
    private final Supplier<Flow<ByteString, ByteString, NotUsed>> flows;
    private final Runnable refused;
    private final ReplyGather.Writes writes;
    private final Materializer materializer;
    private final Thread acceptor;
    private final CompletableFuture<Void> unbound = new CompletableFuture<>();
    private final AtomicBoolean unbinding = new AtomicBoolean();

    private NioListener(ServerSocketChannel server, int maxConnections, Supplier<Flow<ByteString, ByteString, NotUsed>> flows,
            Runnable refused, ReplyGather.Writes writes, Materializer materializer) throws IOException {
        this.refused = refused;
        this.writes = writes;
        this.server = server;
        this.address = (InetSocketAddress) server.getLocalAddress();
        this.slots = new Semaphore(maxConnections);
        this.flows = flows;
        this.materializer = materializer;
        this.acceptor = new Thread(this::acceptLoop, "dionode-accept-" + address.getPort());
        acceptor.setDaemon(true);
    }

    /** Binds {@code host:port}; a failure is the operating system's, for {@link Listener} to put in the user's terms. */
    static CompletionStage<Binding> bind(String host, int port, int maxConnections, Supplier<Flow<ByteString, ByteString, NotUsed>> flows,
            Runnable refused, ReplyGather.Writes writes, Materializer materializer) {
        ServerSocketChannel server = null;
        try {
            server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(host, port), BACKLOG);
            NioListener listener = new NioListener(server, maxConnections, flows, refused, writes, materializer);
            listener.acceptor.start();
            return CompletableFuture.completedFuture(listener);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                try {
                    server.close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
            }
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return address;
    }

    @Override
    public CompletionStage<Void> unbind() {
        if (unbinding.compareAndSet(false, true)) {
            try {
                server.close();
            } catch (IOException e) {
                LOG.debug("closing the listener on {}: {}", address, e.toString());
            }
            acceptor.interrupt();
        }
        return unbound;
    }

    private void acceptLoop() {
        try {
            while (!unbinding.get()) {
                SocketChannel channel;
                try {
                    channel = server.accept();
                } catch (IOException e) {
                    if (e instanceof AsynchronousCloseException || e instanceof ClosedChannelException || unbinding.get()) {
                        break;
                    }
                    LOG.warn("accept on {} failed: {}", address, e.toString());
                    continue;
                }
                if (slots.tryAcquire()) {
                    serve(channel);
                } else {
                    refuse(channel);
                }
            }
        } finally {
            unbound.complete(null);
        }
    }

    private void refuse(SocketChannel channel) {
        refused.run();
        LOG.debug("{}: every connection slot is taken; refused {}", address, channel);
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close: {}", e.toString());
        }
    }

    private void serve(SocketChannel channel) {
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                slots.release();
            }
        };
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            Flow.fromGraph(new SocketStage(channel, release, writes)).join(flows.get()).run(materializer);
        } catch (IOException | RuntimeException e) {
            LOG.warn("connection on {} could not be served: {}", address, e.toString());
            try {
                channel.close();
            } catch (IOException closing) {
                LOG.debug("close: {}", closing.toString());
            }
            release.run();
        }
    }
}
