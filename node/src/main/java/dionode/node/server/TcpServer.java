package dionode.node.server;

import dionode.node.inode.Caller;
import dionode.node.trace.OpTrace;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.MalformedFrameException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native protocol over Pekko Streams TCP. Per connection: frame decoding → Kryo decoding →
 * admission (the reply's bytes reserved) → {@code mapAsyncUnordered(n)} hop to the dispatcher →
 * encoding → the socket. Replies leave as soon as they are ready, out of order; at most {@code n}
 * requests per connection are in the node, and every byte of the connection's frames and replies
 * is counted in its {@link Allowance} until TCP has taken the reply, so a client that does not
 * read its replies stops being read ({@link WireLimits}). A malformed frame, or one not complete
 * within the frame timeout, is answered EBADMSG (when its id is readable) and closes that
 * connection only. Thread-safe.
 */
public final class TcpServer {
    private static final Logger LOG = LoggerFactory.getLogger(TcpServer.class);

    private record Out(long requestId, Reply reply, boolean last, long cost, OpTrace trace) {
    }

    private final Dispatcher dispatcher;
    private final KryoCodec codec;
    private final int parallelism;
    private final Transport transport;

    public TcpServer(Dispatcher dispatcher, KryoCodec codec, int parallelism, Transport transport) {
        long min = WireLimits.minConnectionBytes(codec.maxPayload());
        if (transport.limits().connectionBytes() < min) {
            throw new IllegalArgumentException("a connection buffer of " + transport.limits().connectionBytes()
                    + " bytes cannot hold one frame of " + codec.maxPayload() + " bytes and its reply: give at least " + min);
        }
        this.dispatcher = dispatcher;
        this.codec = codec;
        this.parallelism = parallelism;
        this.transport = transport;
    }

    /**
     * The flow for one connection (called once per connection: its replies and its allowance are
     * its own); its requests come from {@code caller}.
     */
    public Flow<ByteString, ByteString, NotUsed> connectionFlow(Caller.Ref caller) {
        Allowance allowance = transport.allowance(transport.limits().connectionBytes());
        ConnectionReplies<Out> replies = new ConnectionReplies<>();
        AtomicBoolean closing = new AtomicBoolean();
        return Flow.of(ByteString.class)
                .via(new FrameDecoder(codec.maxPayload(), allowance, transport.limits().frameTimeout(), transport::frameTimedOut))
                .map(this::decode)
                .via(new Admission(allowance, codec.maxPayload()))
                .mapAsyncUnordered(parallelism, s -> track(replies, closing, s, caller))
                .map(replies::emitted)
                .takeWhile(o -> !o.last(), true)
                .map(o -> encode(o, allowance))
                .via(new ReleaseOnPull(allowance));
    }

    private Step decode(FrameDecoder.Inbound in) {
        if (in instanceof FrameDecoder.BadFrame bad) {
            LOG.debug("closing connection: {}", bad.reason());
            return new Step(bad.requestId(), null, bad.requestId() < 0 ? null : new Reply.Error(Errno.EBADMSG, bad.reason()),
                    bad.cost());
        }
        FrameDecoder.Frame f = (FrameDecoder.Frame) in;
        try {
            return new Step(f.requestId(), codec.decodeRequest(f.body().asByteBuffer()), null, f.cost());
        } catch (MalformedFrameException e) {
            LOG.debug("closing connection: {}", e.getMessage());
            return new Step(f.requestId(), null, new Reply.Error(Errno.EBADMSG, e.getMessage()), f.cost());
        }
    }

    /** A reply larger than reserved for it is counted at its size: the allowance never counts less than the node holds. */
    private Outgoing encode(Out o, Allowance allowance) {
        if (o.reply() == null) {
            return new Outgoing(ByteString.emptyByteString(), o.cost());
        }
        byte[] frame;
        try {
            frame = codec.encodeFrame(o.requestId(), o.reply());
        } catch (IllegalArgumentException e) {
            frame = codec.encodeFrame(o.requestId(), new Reply.Error(Errno.EINVAL, "reply too large for a frame: " + e.getMessage()));
        }
        o.trace().replied();
        long cost = o.cost();
        if (frame.length > cost) {
            allowance.occupy(frame.length - cost);
            cost = frame.length;
        }
        return new Outgoing(ByteString.fromArrayUnsafe(frame), cost);
    }

    /** The reply that ends the connection leaves after every earlier one: nothing accepted is dropped by the close. */
    private CompletionStage<ConnectionReplies.Tracked<Out>> track(ConnectionReplies<Out> replies, AtomicBoolean closing, Step s,
            Caller.Ref caller) {
        if (closing.get()) {
            // frames that arrived behind the one that closes the connection are neither run nor answered
            return replies.now(new Out(-1, null, false, s.cost(), OpTrace.NONE));
        }
        if (s.request() == null) {
            closing.set(true);
            return replies.last(new Out(s.requestId(), s.refusal(), true, s.cost(), OpTrace.NONE));
        }
        OpTrace trace = dispatcher.trace(s.request());
        return replies.track(dispatcher.dispatch(s.request(), caller.get(), trace)
                .thenApply(r -> new Out(s.requestId(), r, false, s.cost(), trace)));
    }

    /** Binds and serves until the binding is unbound; at most {@link WireLimits#maxConnections} connections at once. */
    public CompletionStage<Binding> bind(ActorSystem<?> system, String host, int port) {
        NodeTls tls = transport.tls();
        return transport.bind(system, "native", host, port, tls == null ? () -> connectionFlow(new Caller.Ref(Caller.ANONYMOUS))
                : () -> tls.wrap(this::connectionFlow, transport.counters()));
    }
}
