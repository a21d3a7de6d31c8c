package dionode.node.nbd;

import dionode.node.server.Binding;
import dionode.node.server.TransportKind;
import dionode.node.inode.Caller;
import dionode.node.inode.NodeCounters;
import dionode.node.server.Allowance;
import dionode.node.server.ConnectionReplies;
import dionode.node.server.Dispatcher;
import dionode.node.server.NodeTls;
import dionode.node.server.Outgoing;
import dionode.node.server.ReleaseOnPull;
import dionode.node.server.Transport;
import dionode.node.server.WireLimits;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.Wire;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NBD over Pekko Streams TCP, in front of the same {@link Dispatcher} as the native protocol: one
 * more decoder, not a second engine. Per connection: {@link NbdDecoder} (handshake, then requests,
 * lengths judged before buffering) → {@code mapAsyncUnordered(n)} hop to the node
 * ({@link Transmission}) → reply bytes. Requests are pipelined; replies leave as soon as they are
 * ready, out of order (a structured reply's chunks leave together, as one element). Each export is a file of the namespace (export name = file
 * name, size = its i_size); block sizes advertised: minimum = device sector size, preferred = the
 * file system block size, maximum = {@link Wire#MAX_IO_BYTES}. A malformed or oversized request
 * ends that connection only, after the replies to every earlier request. Thread-safe.
 */
public final class NbdServer {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    /** Default per-connection bound on the wire bytes of requests in the node and replies not yet taken by TCP. */
    public static final long DEFAULT_BUDGET_BYTES = 64L << 20;
    /** The largest request (a 32 MiB WRITE) or reply (a 32 MiB READ), and the reads around it. */
    static final long MIN_BUDGET_BYTES = Nbd.DEFAULT_CLIENT_MAX + (1L << 20);

    private record Out(ByteString bytes, boolean last, long cost) {
    }

    private final BiFunction<Request, Caller, CompletionStage<Reply>> node;
    private final int sectorSize;
    private final int parallelism;
    private final long budgetBytes;
    private final Transport transport;

    /**
     * @param node where requests go, with the connection's caller (the node's {@code dispatcher()::dispatch})
     * @param sectorSize the device's logical sector size: the minimum block size
     * @param parallelism requests of one connection in the node at once
     * @param budgetBytes the cap on one connection's wire bytes (requests, their payloads and replies)
     * @param transport the node's frame timeout, connection limit and wire budget, shared with its native listener
     */
    public NbdServer(BiFunction<Request, Caller, CompletionStage<Reply>> node, int sectorSize, int parallelism, long budgetBytes,
            Transport transport) {
        if (sectorSize <= 0 || Integer.bitCount(sectorSize) != 1 || sectorSize > 65536) {
            throw new IllegalArgumentException("sector size must be a power of two up to 64 KiB, not " + sectorSize);
        }
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be positive");
        }
        if (budgetBytes < MIN_BUDGET_BYTES) {
            throw new IllegalArgumentException("an NBD connection's budget must hold its largest request and reply: at least "
                    + MIN_BUDGET_BYTES + " bytes, not " + budgetBytes);
        }
        this.node = node;
        this.sectorSize = sectorSize;
        this.parallelism = parallelism;
        this.budgetBytes = budgetBytes;
        this.transport = transport;
    }

    /** A server of its own (tests): default wire limits and a budget not shared with a node's. */
    public NbdServer(Function<Request, CompletionStage<Reply>> node, int sectorSize, int parallelism, long budgetBytes) {
        this((request, caller) -> node.apply(request), sectorSize, parallelism, budgetBytes,
                Transport.of(WireLimits.defaults(), new NodeCounters(), TransportKind.NIO));
    }

    public NbdServer(Dispatcher dispatcher, int sectorSize, int parallelism, Transport transport) {
        this(dispatcher::dispatch, sectorSize, parallelism, DEFAULT_BUDGET_BYTES, transport);
    }

    public NbdServer(Dispatcher dispatcher, int sectorSize, int parallelism) {
        this(dispatcher::dispatch, sectorSize, parallelism, DEFAULT_BUDGET_BYTES);
    }

    /** Binds with the native protocol's default of 64 requests per connection in the node. */
    public static CompletionStage<Binding> bind(ActorSystem<?> system, Dispatcher dispatcher, int sectorSize,
            String host, int port) {
        return new NbdServer(dispatcher, sectorSize, 64).bind(system, host, port);
    }

    /** Binds and serves until the binding is unbound; at most the transport's connection limit at once. */
    public CompletionStage<Binding> bind(ActorSystem<?> system, String host, int port) {
        return transport.bind(system, "nbd", host, port, this::connectionFlow)
                .thenApply(b -> {
                    LOG.info("NBD on {}:{}", b.localAddress().getHostString(), b.localAddress().getPort());
                    return b;
                });
    }

    /**
     * The flow for one connection (called once per connection: its replies are its own). With the
     * node's TLS, {@link StartTls} speaks the plain-text start and puts TLS in front of the rest.
     */
    public Flow<ByteString, ByteString, NotUsed> connectionFlow() {
        NodeTls tls = transport.tls();
        if (tls == null) {
            return connectionFlow(new Caller.Ref(Caller.ANONYMOUS), null);
        }
        return Flow.fromGraph(new StartTls(tls, transport.counters(),
                noZeroes -> tls.wrap(caller -> connectionFlow(caller, noZeroes), transport.counters())));
    }

    /** @param resumedNoZeroes null for plain text from the greeting on; inside TLS, the client's NO_ZEROES flag */
    private Flow<ByteString, ByteString, NotUsed> connectionFlow(Caller.Ref caller, Boolean resumedNoZeroes) {
        ConnectionReplies<Out> replies = new ConnectionReplies<>();
        // read when each request is made: inside TLS the caller is known once the TLS handshake is done
        Function<Request, CompletionStage<Reply>> node = request -> this.node.apply(request, caller.get());
        Handshake handshake = new Handshake(node, sectorSize, Wire.MAX_IO_BYTES, resumedNoZeroes != null);
        Allowance allowance = transport.allowance(budgetBytes);
        return Flow.of(ByteString.class)
                .via(new NbdDecoder(handshake, node, allowance, transport.limits().frameTimeout(), transport::frameTimedOut,
                        resumedNoZeroes))
                .mapAsyncUnordered(parallelism, in -> track(replies, in))
                .map(replies::emitted)
                .takeWhile(o -> !o.last(), true)
                .map(o -> new Outgoing(o.bytes() == null ? ByteString.emptyByteString() : o.bytes(), o.cost()))
                .via(new ReleaseOnPull(allowance));
    }

    /** Handshake bytes pass through at once (in order: the decoder waits for each); the last element waits for every earlier request. */
    private CompletionStage<ConnectionReplies.Tracked<Out>> track(ConnectionReplies<Out> replies, NbdDecoder.Inbound in) {
        if (in instanceof NbdDecoder.Send s && !s.last()) {
            return replies.now(new Out(s.bytes(), false, 0));
        }
        if (in instanceof NbdDecoder.Job job) {
            return replies.track(job.transmission().handle(job.command())
                    .handle((bytes, e) -> {
                        if (e != null) {
                            // Transmission turns node failures into error replies; anything else is a bug: end the connection
                            LOG.error("NBD request failed", e);
                            return new Out(null, true, job.cost());
                        }
                        return new Out(bytes, false, job.cost());
                    }));
        }
        ByteString last = in instanceof NbdDecoder.Send s ? s.bytes() : null;
        if (in instanceof NbdDecoder.End end && end.reason() != null) {
            LOG.debug("closing NBD connection: {}", end.reason());
        }
        return replies.last(new Out(last, true, 0));
    }
}
