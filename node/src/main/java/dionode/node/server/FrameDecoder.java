package dionode.node.server;

import dionode.protocol.wire.Wire;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Cuts the byte stream of one connection into frames ({@link Wire}). A declared length is judged
 * before anything is buffered: a bad one yields a {@link BadFrame} (with the request id when its 8
 * bytes can be read) and stops reading, so one peer cannot make the node allocate a huge frame.
 * At most one frame plus one TCP chunk is buffered. Each materialization is confined to its stage.
 */
public final class FrameDecoder extends GraphStage<FlowShape<ByteString, FrameDecoder.Inbound>> {

    /** What comes out: a frame, or the reason the connection must end. */
    public sealed interface Inbound {
    }

    public record Frame(long requestId, byte[] body) implements Inbound {
    }

    /** {@code requestId} is -1 when the id could not be read. */
    public record BadFrame(long requestId, String reason) implements Inbound {
    }

    private final Inlet<ByteString> in = Inlet.create("FrameDecoder.in");
    private final Outlet<Inbound> out = Outlet.create("FrameDecoder.out");
    private final FlowShape<ByteString, Inbound> shape = FlowShape.of(in, out);
    private final int maxPayload;

    public FrameDecoder(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    @Override
    public FlowShape<ByteString, Inbound> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new GraphStageLogic(shape) {
            private ByteString buffer = ByteString.emptyByteString();
            private boolean upstreamDone;
            private boolean broken;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        buffer = buffer.concat(grab(in));
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

            private void emitOrPull() {
                if (broken) {
                    return;
                }
                Inbound next = parse();
                if (next != null) {
                    push(out, next);
                    if (next instanceof BadFrame) {
                        // stop reading but do not complete: completing would cancel the socket's read side, and
                        // Tcp would close the connection before the EBADMSG reply is written; downstream ends it
                        broken = true;
                        buffer = ByteString.emptyByteString();
                    }
                } else if (upstreamDone) {
                    completeStage();
                } else if (!hasBeenPulled(in)) {
                    pull(in);
                }
            }

            private Inbound parse() {
                if (buffer.size() < Wire.LENGTH_BYTES) {
                    return null;
                }
                long declared = Integer.toUnsignedLong(buffer.iterator().getInt(java.nio.ByteOrder.BIG_ENDIAN));
                String bad = Wire.checkLength(declared, maxPayload);
                if (bad != null) {
                    if (declared < Wire.ID_BYTES) {
                        return new BadFrame(-1, bad);
                    }
                    if (buffer.size() < Wire.HEADER_BYTES) {
                        return upstreamDone ? new BadFrame(-1, bad) : null;
                    }
                    return new BadFrame(requestId(), bad);
                }
                if (buffer.size() < Wire.LENGTH_BYTES + declared) {
                    return null;
                }
                long id = requestId();
                byte[] body = buffer.slice(Wire.HEADER_BYTES, (int) (Wire.LENGTH_BYTES + declared)).toArray();
                buffer = buffer.drop((int) (Wire.LENGTH_BYTES + declared)).compact();
                return new Frame(id, body);
            }

            private long requestId() {
                return buffer.slice(Wire.LENGTH_BYTES, Wire.HEADER_BYTES).iterator().getLong(java.nio.ByteOrder.BIG_ENDIAN);
            }
        };
    }
}
