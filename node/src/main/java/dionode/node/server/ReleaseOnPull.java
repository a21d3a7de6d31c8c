package dionode.node.server;

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
 * The last stage before the socket: hands reply bytes to Pekko's TCP stage and gives their cost
 * back to the connection's {@link Allowance} when TCP pulls again. TCP pulls the next element only
 * once the previous one is written to the kernel (or, for small ones, coalesced into a write of at
 * most its 16 KiB write buffer), so a client that does not read its replies leaves them counted
 * here, and its connection stops taking requests when its allowance is full: backpressure, not
 * buffering. When the connection ends, everything it still holds goes back. Each materialization
 * is confined to its stage; materialize once per connection.
 */
public final class ReleaseOnPull extends GraphStage<FlowShape<Outgoing, ByteString>> {
    private final Inlet<Outgoing> in = Inlet.create("ReleaseOnPull.in");
    private final Outlet<ByteString> out = Outlet.create("ReleaseOnPull.out");
    private final FlowShape<Outgoing, ByteString> shape = FlowShape.of(in, out);
    private final Allowance allowance;

    public ReleaseOnPull(Allowance allowance) {
        this.allowance = allowance;
    }

    @Override
    public FlowShape<Outgoing, ByteString> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new GraphStageLogic(shape) {
            private long sent;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        Outgoing o = grab(in);
                        if (o.bytes().isEmpty()) {
                            allowance.release(o.cost());
                            pull(in);
                        } else {
                            sent = o.cost();
                            push(out, o.bytes());
                        }
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        allowance.release(sent);
                        sent = 0;
                        pull(in);
                    }
                });
            }

            @Override
            public void postStop() {
                allowance.close();
            }
        };
    }
}
