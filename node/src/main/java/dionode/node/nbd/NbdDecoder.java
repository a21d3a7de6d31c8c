package dionode.node.nbd;

import dionode.node.server.Allowance;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Cuts one NBD connection's byte stream into what the rest of the pipeline acts on. Handshake: it
 * sends the greeting, reads the client flags and one option at a time, lets {@link Handshake}
 * answer it (asynchronously: lookups go to the namespace) and reads nothing more until the answer
 * is out, as the protocol has the client wait for it; the answer leaves as a {@link Send}, ahead of
 * anything later. After GO or EXPORT_NAME it reads requests: {@link Job}s, in arrival order, for
 * the pipeline to run concurrently.
 *
 * <p>Lengths are judged before anything is buffered: a bad request magic, an option longer than
 * any legal one or a WRITE payload longer than the spec's 32 MiB default maximum ends the
 * connection ({@link End}) without reading further, so one peer cannot make the node allocate a
 * huge buffer. Every byte buffered is counted in the connection's
 * {@link dionode.node.server.Allowance} as it arrives; the rest of an option or request that did
 * not arrive whole is reserved there before it is read, and so is the reply a request may take
 * (a READ's data, a block status chunk: {@link Transmission#replyBound}, which depends on what
 * was negotiated); a request travels on with those bytes ({@link Job#cost}) until TCP has taken
 * its reply. When they do not fit (the connection's cap or the node's wire budget), the decoder
 * stops reading (TCP backpressure) until replies give bytes back. An option or request begun but
 * not complete within the frame timeout ends the connection. At most one request plus one TCP
 * read is buffered. Each materialization is confined to its stage; materialize once per
 * connection.
 */
final class NbdDecoder extends GraphStage<FlowShape<ByteString, NbdDecoder.Inbound>> {

    /** What comes out. */
    sealed interface Inbound {
    }

    /** Bytes for the client, sent as they are (handshake answers); {@code last} ends the connection after them. */
    record Send(ByteString bytes, boolean last) implements Inbound {
    }

    /** A transmission request to run, with the wire bytes it holds until TCP has taken its reply. */
    record Job(Command command, Transmission transmission, long cost) implements Inbound {
    }

    /** The connection ends once every earlier request has been answered: NBD_CMD_DISC, or the reason of a hard disconnect. */
    record End(String reason) implements Inbound {
    }

    /** One request as received; {@code offset} is unsigned on the wire (negative here means &ge; 2^63). */
    record Command(int flags, int type, long handle, long offset, long length, byte[] payload) {
    }

    static final byte[] NO_PAYLOAD = new byte[0];
    /** Longest legal option: INFO/GO with a 4096-byte name and 65535 info requests. */
    static final int MAX_OPTION_BYTES = 4 + Nbd.MAX_STRING_BYTES + 2 + 2 * 65535;

    private final Inlet<ByteString> in = Inlet.create("NbdDecoder.in");
    private final Outlet<Inbound> out = Outlet.create("NbdDecoder.out");
    private final FlowShape<ByteString, Inbound> shape = FlowShape.of(in, out);
    private static final String FRAME_TIMER = "frame";

    private final Handshake handshake;
    private final Function<Request, CompletionStage<Reply>> node;
    private final Allowance allowance;
    private final Duration frameTimeout;
    private final Runnable onTimeout;
    /** Null: a new connection (greeting, client flags first); else the client's NO_ZEROES flag, options resuming inside TLS. */
    private final Boolean resumedNoZeroes;

    NbdDecoder(Handshake handshake, Function<Request, CompletionStage<Reply>> node, Allowance allowance, Duration frameTimeout,
            Runnable onTimeout) {
        this(handshake, node, allowance, frameTimeout, onTimeout, null);
    }

    /** @param resumedNoZeroes null for a new connection; after STARTTLS, the NO_ZEROES flag the client sent in plain text */
    NbdDecoder(Handshake handshake, Function<Request, CompletionStage<Reply>> node, Allowance allowance, Duration frameTimeout,
            Runnable onTimeout, Boolean resumedNoZeroes) {
        this.resumedNoZeroes = resumedNoZeroes;
        this.handshake = handshake;
        this.node = node;
        this.allowance = allowance;
        this.frameTimeout = frameTimeout;
        this.onTimeout = onTimeout;
    }

    @Override
    public FlowShape<ByteString, Inbound> shape() {
        return shape;
    }

    private enum Phase { CLIENT_FLAGS, OPTIONS, WAITING, TRANSMISSION, ENDED }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new TimerGraphStageLogic(shape) {
            private ByteString buffer = ByteString.emptyByteString();
            private Phase phase = resumedNoZeroes == null ? Phase.CLIENT_FLAGS : Phase.OPTIONS;
            private boolean upstreamDone;
            private boolean noZeroes = Boolean.TRUE.equals(resumedNoZeroes);
            private Negotiation negotiation = Negotiation.NONE;
            private Transmission transmission;
            private boolean waitingForBudget;
            private AsyncCallback<Handshake.Outcome> optionDone;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        buffer = buffer.concat(grab(in));
                        allowance.arrived(buffer.size());
                        progress();
                    }

                    @Override
                    public void onUpstreamFinish() {
                        upstreamDone = true;
                        progress();
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        progress();
                    }
                });
            }

            @Override
            public void preStart() {
                optionDone = createAsyncCallback(this::answered);
                AsyncCallback<Boolean> wake = createAsyncCallback(x -> {
                    if (waitingForBudget) {
                        waitingForBudget = false;
                        progress();
                    }
                });
                allowance.onWake(() -> wake.invoke(Boolean.TRUE));
                if (resumedNoZeroes == null) {
                    // after STARTTLS the haggling resumes with the client's next option: no second greeting
                    emit(out, new Send(Handshake.greeting(), false));
                }
            }

            @Override
            public void onTimer(Object key) {
                if (phase == Phase.ENDED) {
                    return;
                }
                onTimeout.run();
                end();
                emit(out, new End((phase == Phase.TRANSMISSION ? "request" : "handshake") + " not complete after "
                        + frameTimeout.toMillis() + " ms"));
            }

            private void end() {
                phase = Phase.ENDED;
                cancelTimer(FRAME_TIMER);
                buffer = ByteString.emptyByteString();
                allowance.discardBuffer();
            }

            private void progress() {
                if (phase == Phase.ENDED || phase == Phase.WAITING || waitingForBudget || !isAvailable(out)) {
                    return;
                }
                Inbound next = parse();
                if (next != null) {
                    cancelTimer(FRAME_TIMER);
                    push(out, next);
                    if (next instanceof End || next instanceof Send s && s.last()) {
                        // stop reading but do not complete: completing would cancel the socket's read side and Tcp
                        // would close the connection before earlier replies are written; downstream ends it
                        end();
                    }
                } else if (phase == Phase.WAITING || waitingForBudget) {
                    // the node, not the peer, is what the connection waits for now: no timeout meanwhile
                    cancelTimer(FRAME_TIMER);
                } else if (upstreamDone) {
                    completeStage();
                } else {
                    if (!buffer.isEmpty() && !isTimerActive(FRAME_TIMER)) {
                        scheduleOnce(FRAME_TIMER, frameTimeout);
                    }
                    if (!hasBeenPulled(in)) {
                        pull(in);
                    }
                }
            }

            private void answered(Handshake.Outcome o) {
                if (phase != Phase.WAITING) {
                    return;
                }
                if (o == null) {
                    end();
                    emit(out, new End("option handling failed"));
                    return;
                }
                if (o.close()) {
                    end();
                    emit(out, o.reply() == null ? new End("handshake ended") : new Send(o.reply(), true));
                    return;
                }
                if (o.negotiation() != null) {
                    negotiation = o.negotiation();
                }
                if (o.export() != null) {
                    transmission = new Transmission(node, o.export(), negotiation);
                    phase = Phase.TRANSMISSION;
                } else {
                    phase = Phase.OPTIONS;
                }
                emit(out, new Send(o.reply(), false), this::progress);
            }

            private Inbound parse() {
                return switch (phase) {
                    case CLIENT_FLAGS -> clientFlags();
                    case OPTIONS -> option();
                    case TRANSMISSION -> request();
                    default -> null;
                };
            }

            private Inbound clientFlags() {
                if (buffer.size() < 4) {
                    return null;
                }
                int flags = buffer.slice(0, 4).asByteBuffer().getInt();
                buffer = buffer.drop(4);
                allowance.consume(4);
                if ((flags & ~(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) != 0) {
                    return new End("unknown client flags 0x" + Integer.toHexString(flags));
                }
                noZeroes = (flags & Nbd.FLAG_C_NO_ZEROES) != 0;
                phase = Phase.OPTIONS;
                return option();
            }

            private Inbound option() {
                if (buffer.size() < Nbd.OPTION_HEADER_BYTES) {
                    return null;
                }
                ByteBuffer h = buffer.slice(0, Nbd.OPTION_HEADER_BYTES).asByteBuffer();
                long magic = h.getLong();
                if (magic != Nbd.IHAVEOPT) {
                    return new End("bad option magic 0x" + Long.toHexString(magic));
                }
                int option = h.getInt();
                long length = Integer.toUnsignedLong(h.getInt());
                if (length > MAX_OPTION_BYTES) {
                    return new End("option " + option + " of " + length + " bytes is longer than any legal option");
                }
                int total = Nbd.OPTION_HEADER_BYTES + (int) length;
                if (!allowance.cover(total)) {
                    waitingForBudget = true;
                    return null;
                }
                if (buffer.size() < total) {
                    return null;
                }
                byte[] data = buffer.slice(Nbd.OPTION_HEADER_BYTES, total).toArray();
                buffer = buffer.drop(total);
                allowance.consume(total);
                phase = Phase.WAITING;
                CompletionStage<Handshake.Outcome> answer = handshake.option(option, data, noZeroes, negotiation);
                answer.whenComplete((o, e) -> optionDone.invoke(e != null ? null : o));
                return null;
            }

            private Inbound request() {
                if (buffer.size() < Nbd.REQUEST_HEADER_BYTES) {
                    return null;
                }
                ByteBuffer h = buffer.slice(0, Nbd.REQUEST_HEADER_BYTES).asByteBuffer();
                int magic = h.getInt();
                if (magic != Nbd.REQUEST_MAGIC) {
                    return new End("bad request magic 0x" + Integer.toHexString(magic));
                }
                int flags = Short.toUnsignedInt(h.getShort());
                int type = Short.toUnsignedInt(h.getShort());
                long handle = h.getLong();
                long offset = h.getLong();
                long length = Integer.toUnsignedLong(h.getInt());
                if (type == Nbd.CMD_DISC) {
                    return new End(null);
                }
                long payload = type == Nbd.CMD_WRITE ? length : 0;
                if (payload > Nbd.DEFAULT_CLIENT_MAX) {
                    return new End("write of " + payload + " bytes exceeds " + Nbd.DEFAULT_CLIENT_MAX);
                }
                int total = Nbd.REQUEST_HEADER_BYTES + (int) payload;
                if (!allowance.cover(total)) {
                    waitingForBudget = true;
                    return null;
                }
                if (buffer.size() < total) {
                    return null;
                }
                long reply = transmission.replyBound(type, length);
                if (!allowance.reserve(reply)) {
                    waitingForBudget = true;
                    return null;
                }
                byte[] data = payload == 0 ? NO_PAYLOAD : buffer.slice(Nbd.REQUEST_HEADER_BYTES, total).toArray();
                buffer = buffer.drop(total);
                allowance.handOver(total);
                return new Job(new Command(flags, type, handle, offset, length, data), transmission, total + reply);
            }
        };
    }
}
