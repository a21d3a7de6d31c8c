package dionode.node.server;

import dionode.protocol.wire.Wire;
import java.nio.ByteOrder;
import java.time.Duration;
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
 * Cuts the byte stream of one connection into frames ({@link Wire}). A declared length is judged
 * before anything is buffered: a bad one yields a {@link BadFrame} (with the request id when its 8
 * bytes can be read) and stops reading, so one peer cannot make the node allocate a huge frame.
 *
 * <p>Every byte it buffers is counted in the connection's {@link Allowance} as it arrives, and
 * before it reads the rest of a frame that did not arrive whole it reserves the whole frame there:
 * when that does not fit (the connection's cap, or the node's wire budget), it stops reading until
 * a release wakes it, so TCP holds the rest in the peer's socket. A frame's bytes travel on with
 * it ({@link Frame#cost}) until its reply is taken by TCP. While it waits for the peer to finish a
 * frame it has begun, a timer runs: a frame not complete within the frame timeout closes the
 * connection ({@link BadFrame}, counted by {@code onTimeout}). At most one frame plus one TCP read
 * is buffered. Each materialization is confined to its stage; materialize once per connection.
 */
public final class FrameDecoder extends GraphStage<FlowShape<ByteString, FrameDecoder.Inbound>> {

    /** What comes out: a frame, or the reason the connection must end. */
    public sealed interface Inbound {
        /** Wire bytes of the connection's allowance it holds. */
        long cost();
    }

    /** {@code body} is a view of the reads it came in, not a copy: decode it ({@code asByteBuffer}) and let it go. */
    public record Frame(long requestId, ByteString body, long cost) implements Inbound {
    }

    /** {@code requestId} is -1 when the id could not be read. */
    public record BadFrame(long requestId, String reason) implements Inbound {
        @Override
        public long cost() {
            return 0;
        }
    }

    private static final String FRAME_TIMER = "frame";

    private final Inlet<ByteString> in = Inlet.create("FrameDecoder.in");
    private final Outlet<Inbound> out = Outlet.create("FrameDecoder.out");
    private final FlowShape<ByteString, Inbound> shape = FlowShape.of(in, out);
    private final int maxPayload;
    private final Allowance allowance;
    private final Duration frameTimeout;
    private final Runnable onTimeout;

    public FrameDecoder(int maxPayload, Allowance allowance, Duration frameTimeout, Runnable onTimeout) {
        this.maxPayload = maxPayload;
        this.allowance = allowance;
        this.frameTimeout = frameTimeout;
        this.onTimeout = onTimeout;
    }

    @Override
    public FlowShape<ByteString, Inbound> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new TimerGraphStageLogic(shape) {
            private ByteString buffer = ByteString.emptyByteString();
            private boolean upstreamDone;
            private boolean broken;
            private boolean waiting;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        buffer = buffer.concat(grab(in));
                        allowance.arrived(buffer.length());
                        emitOrPull();
                    }

                    @Override
                    public void onUpstreamFinish() {
                        upstreamDone = true;
                        if (isAvailable(out)) {
                            emitOrPull();
                        }
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        emitOrPull();
                    }
                });
            }

            @Override
            public void preStart() {
                AsyncCallback<Boolean> wake = createAsyncCallback(x -> {
                    if (waiting) {
                        waiting = false;
                        emitOrPull();
                    }
                });
                allowance.onWake(() -> wake.invoke(Boolean.TRUE));
            }

            @Override
            public void onTimer(Object key) {
                if (broken) {
                    return;
                }
                onTimeout.run();
                long id = buffer.length() >= Wire.HEADER_BYTES ? requestId() : -1;
                String of = buffer.length() >= Wire.LENGTH_BYTES ? " of " + (Wire.LENGTH_BYTES + declared()) : "";
                end(new BadFrame(id, "frame not complete after " + frameTimeout.toMillis() + " ms (" + buffer.length() + of
                        + " bytes received)"));
            }

            private void emitOrPull() {
                if (broken || waiting) {
                    return;
                }
                Inbound next = parse();
                if (next instanceof BadFrame bad) {
                    end(bad);
                } else if (next != null) {
                    cancelTimer(FRAME_TIMER);
                    push(out, next);
                } else if (upstreamDone) {
                    completeStage();
                } else if (!allowance.cover(wanted())) {
                    // the node, not the peer, is what the frame waits for now: no timeout while it waits
                    waiting = true;
                    cancelTimer(FRAME_TIMER);
                } else {
                    if (!buffer.isEmpty() && !isTimerActive(FRAME_TIMER)) {
                        scheduleOnce(FRAME_TIMER, frameTimeout);
                    }
                    if (!hasBeenPulled(in)) {
                        pull(in);
                    }
                }
            }

            /** Stop reading but do not complete: completing would cancel the socket's read side, and Tcp would close the
             * connection before the EBADMSG reply is written; downstream ends it. */
            private void end(BadFrame bad) {
                broken = true;
                cancelTimer(FRAME_TIMER);
                buffer = ByteString.emptyByteString();
                allowance.discardBuffer();
                emit(out, bad);
            }

            private Inbound parse() {
                if (buffer.length() < Wire.LENGTH_BYTES) {
                    return null;
                }
                long declared = declared();
                String bad = Wire.checkLength(declared, maxPayload);
                if (bad != null) {
                    if (declared < Wire.ID_BYTES) {
                        return new BadFrame(-1, bad);
                    }
                    if (buffer.length() < Wire.HEADER_BYTES) {
                        return upstreamDone ? new BadFrame(-1, bad) : null;
                    }
                    return new BadFrame(requestId(), bad);
                }
                int frameBytes = (int) (Wire.LENGTH_BYTES + declared);
                if (buffer.length() < frameBytes) {
                    return null;
                }
                long id = requestId();
                // a view, not a copy: a body within one read decodes where it lies, and a write's payload is copied
                // once, into its request. No compact either: the rest stays a view of the chunks it came in (at most a
                // read's worth, and counted); copying it after every frame copied a read of many small frames over and over
                ByteString body = buffer.slice(Wire.HEADER_BYTES, frameBytes);
                buffer = buffer.drop(frameBytes);
                allowance.handOver(frameBytes);
                return new Frame(id, body, frameBytes);
            }

            /** What the buffer must hold before it can yield something: the length, the id of a bad frame, the frame. */
            private long wanted() {
                if (buffer.length() < Wire.LENGTH_BYTES) {
                    return Wire.LENGTH_BYTES;
                }
                long declared = declared();
                return Wire.checkLength(declared, maxPayload) != null ? Wire.HEADER_BYTES : Wire.LENGTH_BYTES + declared;
            }

            private long declared() {
                return Integer.toUnsignedLong(buffer.iterator().getInt(ByteOrder.BIG_ENDIAN));
            }

            private long requestId() {
                return buffer.slice(Wire.LENGTH_BYTES, Wire.HEADER_BYTES).iterator().getLong(ByteOrder.BIG_ENDIAN);
            }
        };
    }
}
