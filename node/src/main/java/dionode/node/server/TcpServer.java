package dionode.node.server;

import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.MalformedFrameException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native protocol over Pekko Streams TCP. Per connection: frame decoding → Kryo decoding →
 * {@code mapAsyncUnordered(n)} hop to the dispatcher → encoding. Replies leave as soon as they are
 * ready, out of order; at most {@code n} requests per connection are in the node, and TCP
 * backpressure holds the rest in the client's socket. A malformed frame is answered EBADMSG
 * (when its id is readable) and closes that connection only. Thread-safe.
 */
public final class TcpServer {
    private static final Logger LOG = LoggerFactory.getLogger(TcpServer.class);

    private record Out(long requestId, Reply reply, boolean last) {
    }

    private final Dispatcher dispatcher;
    private final KryoCodec codec;
    private final int parallelism;

    public TcpServer(Dispatcher dispatcher, KryoCodec codec, int parallelism) {
        this.dispatcher = dispatcher;
        this.codec = codec;
        this.parallelism = parallelism;
    }

    /** The flow for one connection (called once per connection: its replies are its own). */
    public Flow<ByteString, ByteString, NotUsed> connectionFlow() {
        ConnectionReplies<Out> replies = new ConnectionReplies<>();
        AtomicBoolean closing = new AtomicBoolean();
        return Flow.of(ByteString.class)
                .via(new FrameDecoder(codec.maxPayload()))
                .mapAsyncUnordered(parallelism, in -> track(replies, closing, in))
                .map(replies::emitted)
                .takeWhile(o -> !o.last(), true)
                .mapConcat(o -> o.reply() == null ? List.of() : List.of(ByteString.fromArrayUnsafe(encode(o))));
    }

    private byte[] encode(Out o) {
        try {
            return codec.encodeFrame(o.requestId(), o.reply());
        } catch (IllegalArgumentException e) {
            return codec.encodeFrame(o.requestId(), new Reply.Error(Errno.EINVAL, "reply too large for a frame: " + e.getMessage()));
        }
    }

    /** The reply that ends the connection leaves after every earlier one: nothing accepted is dropped by the close. */
    private CompletionStage<ConnectionReplies.Tracked<Out>> track(ConnectionReplies<Out> replies, AtomicBoolean closing,
            FrameDecoder.Inbound in) {
        if (closing.get()) {
            // frames that arrived behind the one that closes the connection are neither run nor answered
            return replies.now(new Out(-1, null, false));
        }
        CompletableFuture<Out> f = handle(in).toCompletableFuture();
        if (f.isDone() && f.join().last()) {
            closing.set(true);
            return replies.last(f.join());
        }
        return replies.track(f);
    }

    private CompletionStage<Out> handle(FrameDecoder.Inbound in) {
        if (in instanceof FrameDecoder.BadFrame bad) {
            LOG.debug("closing connection: {}", bad.reason());
            return CompletableFuture.completedFuture(new Out(bad.requestId(),
                    bad.requestId() < 0 ? null : new Reply.Error(Errno.EBADMSG, bad.reason()), true));
        }
        FrameDecoder.Frame f = (FrameDecoder.Frame) in;
        Object message;
        try {
            message = codec.decodeBody(f.body(), 0, f.body().length);
        } catch (MalformedFrameException e) {
            return CompletableFuture.completedFuture(new Out(f.requestId(), new Reply.Error(Errno.EBADMSG, e.getMessage()), true));
        }
        if (!(message instanceof Request request)) {
            return CompletableFuture.completedFuture(new Out(f.requestId(),
                    new Reply.Error(Errno.EBADMSG, "not a request: " + message.getClass().getSimpleName()), true));
        }
        return dispatcher.dispatch(request).thenApply(r -> new Out(f.requestId(), r, false));
    }

    /** Binds and serves until the binding is unbound. */
    public CompletionStage<Tcp.ServerBinding> bind(ActorSystem<?> system, String host, int port) {
        return Tcp.get(system).bind(host, port)
                .to(Sink.foreach(conn -> conn.handleWith(connectionFlow(), system)))
                .run(system);
    }
}
