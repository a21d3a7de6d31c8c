package dionode.node.server;

import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Reserves in the connection's {@link Allowance}, before a request runs, the bytes its reply may
 * take ({@link Step#replyBound}): an 8 MiB read reserves 8 MiB. When that does not fit, the step
 * waits here, nothing behind it is pulled, and the frame decoder stops reading the socket until
 * replies are taken by TCP and give their bytes back. At most one step waits. Each
 * materialization is confined to its stage; materialize once per connection.
 */
final class Admission extends GraphStage<FlowShape<Step, Step>> {
    private final Inlet<Step> in = Inlet.create("Admission.in");
    private final Outlet<Step> out = Outlet.create("Admission.out");
    private final FlowShape<Step, Step> shape = FlowShape.of(in, out);
    private final Allowance allowance;
    private final int maxPayload;

    Admission(Allowance allowance, int maxPayload) {
        this.allowance = allowance;
        this.maxPayload = maxPayload;
    }

    @Override
    public FlowShape<Step, Step> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new GraphStageLogic(shape) {
            private Step waiting;
            private boolean upstreamDone;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        waiting = grab(in);
                        admit();
                    }

                    @Override
                    public void onUpstreamFinish() {
                        upstreamDone = true;
                        if (waiting == null) {
                            completeStage();
                        }
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        if (waiting == null && !hasBeenPulled(in)) {
                            pull(in);
                        }
                    }
                });
            }

            @Override
            public void preStart() {
                AsyncCallback<Boolean> wake = createAsyncCallback(x -> admit());
                allowance.onWake(() -> wake.invoke(Boolean.TRUE));
            }

            private void admit() {
                if (waiting == null) {
                    return;
                }
                long bound = waiting.replyBound(maxPayload);
                if (!allowance.reserve(bound)) {
                    return;
                }
                push(out, waiting.plus(bound));
                waiting = null;
                if (upstreamDone) {
                    completeStage();
                }
            }
        };
    }
}
