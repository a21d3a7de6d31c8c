package dionode.node.nbd;

import dionode.node.inode.NodeCounters;
import dionode.node.server.NodeTls;
import java.nio.ByteBuffer;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plain-text start of an NBD connection on a node with TLS: the greeting, the client flags,
 * then options, each answered before the next is read, until NBD_OPT_STARTTLS. Every other
 * option gets NBD_REP_ERR_TLS_REQD (its data is skipped, never buffered), ABORT is acknowledged
 * and closes, EXPORT_NAME (which has no error reply) closes. After the ACK to STARTTLS the stage
 * becomes a pass-through between the socket and {@code tls(noZeroes)}: Pekko's TLS stage
 * ({@link NodeTls#wrap}) joined with the usual handshake and transmission flow, where the option
 * haggling resumes. A client that has not asked for STARTTLS within the TLS handshake timeout is
 * closed and counted in {@code tls_failures}; from STARTTLS on, {@link NodeTls#wrap} times and
 * counts the TLS handshake. Buffers at most one option header and one TCP read. Confined to its
 * stage; materialize once per connection.
 */
final class StartTls extends GraphStage<FlowShape<ByteString, ByteString>> {
    private static final Logger LOG = LoggerFactory.getLogger(StartTls.class);
    private static final String TIMER = "starttls";

    private final Inlet<ByteString> in = Inlet.create("StartTls.in");
    private final Outlet<ByteString> out = Outlet.create("StartTls.out");
    private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
    private final NodeTls tls;
    private final NodeCounters counters;
    /** The TLS-wrapped rest of the connection, given the client's NO_ZEROES flag. */
    private final Function<Boolean, Flow<ByteString, ByteString, NotUsed>> inner;

    StartTls(NodeTls tls, NodeCounters counters, Function<Boolean, Flow<ByteString, ByteString, NotUsed>> inner) {
        this.tls = tls;
        this.counters = counters;
        this.inner = inner;
    }

    /** Plain text refused before TLS, for tests and the reason in the log. */
    static final class Refused extends RuntimeException {
        Refused(String why) {
            super(why, null, false, false);
        }
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new TimerGraphStageLogic(shape) {
            private ByteString buffer = ByteString.emptyByteString();
            private boolean greeted;
            private boolean flagsRead;
            private boolean noZeroes;
            /** Data bytes of a refused option still to skip. */
            private long skip;
            /** Bytes read behind the STARTTLS option, for the TLS side. */
            private ByteString pending;
            private SubSourceOutlet<ByteString> toTls;
            private SubSinkInlet<ByteString> fromTls;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        buffer = buffer.concat(grab(in));
                        plain();
                    }

                    @Override
                    public void onUpstreamFinish() {
                        LOG.debug("NBD client closed before STARTTLS");
                        completeStage();
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        plain();
                    }
                });
            }

            @Override
            public void preStart() {
                scheduleOnce(TIMER, tls.handshakeTimeout());
            }

            @Override
            public void onTimer(Object key) {
                counters.inc(NodeCounters.TLS_FAILURES);
                failStage(new Refused("no STARTTLS within " + tls.handshakeTimeout().toMillis() + " ms"));
            }

            /** One answer per pull of {@code out}: the client waits for each before it sends the next option. */
            private void plain() {
                if (toTls != null || !isAvailable(out)) {
                    return;
                }
                if (!greeted) {
                    greeted = true;
                    push(out, Handshake.greeting());
                    return;
                }
                if (!flagsRead && buffer.size() >= 4) {
                    int flags = buffer.slice(0, 4).asByteBuffer().getInt();
                    buffer = buffer.drop(4);
                    if ((flags & ~(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) != 0) {
                        failStage(new Refused("unknown client flags 0x" + Integer.toHexString(flags)));
                        return;
                    }
                    noZeroes = (flags & Nbd.FLAG_C_NO_ZEROES) != 0;
                    flagsRead = true;
                }
                if (skip > 0) {
                    int n = (int) Math.min(skip, buffer.size());
                    buffer = buffer.drop(n);
                    skip -= n;
                }
                if (flagsRead && skip == 0 && buffer.size() >= Nbd.OPTION_HEADER_BYTES) {
                    option();
                    return;
                }
                if (!hasBeenPulled(in)) {
                    pull(in);
                }
            }

            private void option() {
                ByteBuffer h = buffer.slice(0, Nbd.OPTION_HEADER_BYTES).asByteBuffer();
                buffer = buffer.drop(Nbd.OPTION_HEADER_BYTES);
                long magic = h.getLong();
                int option = h.getInt();
                long length = Integer.toUnsignedLong(h.getInt());
                if (magic != Nbd.IHAVEOPT) {
                    failStage(new Refused("bad option magic 0x" + Long.toHexString(magic)));
                } else if (length > NbdDecoder.MAX_OPTION_BYTES) {
                    failStage(new Refused("option " + option + " of " + length + " bytes is longer than any legal option"));
                } else if (option == Nbd.OPT_EXPORT_NAME) {
                    // no error reply exists for EXPORT_NAME: closing is all the spec leaves
                    failStage(new Refused("NBD_OPT_EXPORT_NAME before STARTTLS"));
                } else if (option == Nbd.OPT_ABORT) {
                    emit(out, Handshake.reply(option, Nbd.REP_ACK, null), this::completeStage);
                } else if (option != Nbd.OPT_STARTTLS) {
                    skip = length;
                    push(out, Handshake.reply(option, Nbd.REP_ERR_TLS_REQD,
                            "TLS is required: send NBD_OPT_STARTTLS first".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                } else if (length != 0) {
                    skip = length;
                    push(out, Handshake.reply(option, Nbd.REP_ERR_INVALID,
                            "NBD_OPT_STARTTLS carries no data".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                } else {
                    push(out, Handshake.reply(option, Nbd.REP_ACK, null));
                    startTls();
                }
            }

            /** From here on the socket's bytes are TLS records: pass them through to the TLS flow and back. */
            private void startTls() {
                cancelTimer(TIMER);
                pending = buffer.isEmpty() ? null : buffer;
                buffer = ByteString.emptyByteString();
                toTls = new SubSourceOutlet<>("StartTls.toTls");
                fromTls = new SubSinkInlet<>("StartTls.fromTls");
                toTls.setHandler(new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        if (pending != null) {
                            toTls.push(pending);
                            pending = null;
                        } else if (isClosed(in)) {
                            toTls.complete();
                        } else if (!hasBeenPulled(in)) {
                            pull(in);
                        }
                    }

                    @Override
                    public void onDownstreamFinish(Throwable cause) {
                        cancel(in, cause);
                    }
                });
                fromTls.setHandler(new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        push(out, fromTls.grab());
                    }

                    @Override
                    public void onUpstreamFinish() {
                        completeStage();
                    }

                    @Override
                    public void onUpstreamFailure(Throwable ex) {
                        failStage(ex);
                    }
                });
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        ByteString bytes = grab(in);
                        if (toTls.isAvailable()) {
                            toTls.push(bytes);
                        } else {
                            pending = bytes;
                        }
                    }

                    @Override
                    public void onUpstreamFinish() {
                        if (pending == null) {
                            toTls.complete();
                        }
                    }

                    @Override
                    public void onUpstreamFailure(Throwable ex) {
                        toTls.fail(ex);
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        if (!fromTls.hasBeenPulled() && !fromTls.isClosed()) {
                            fromTls.pull();
                        }
                    }

                    @Override
                    public void onDownstreamFinish(Throwable cause) {
                        fromTls.cancel(cause);
                        completeStage();
                    }
                });
                Source.fromGraph(toTls.source()).via(inner.apply(noZeroes)).runWith(fromTls.sink(), subFusingMaterializer());
                if (isAvailable(out)) {
                    fromTls.pull();
                }
            }
        };
    }
}
