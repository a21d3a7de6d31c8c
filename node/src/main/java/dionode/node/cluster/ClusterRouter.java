package dionode.node.cluster;

import dionode.node.inode.Caller;
import dionode.node.inode.NodeCounters;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The entry member's side of a request for another member's volume (DESIGN §7): a file's request
 * goes to its door entity over sharding and its reply comes back the same way; a namespace request
 * goes to {@link ClusterNamespace}. A volume whose member is down or unreachable answers EHOSTDOWN
 * at once; one that does not answer within the remote timeout answers EHOSTDOWN then, so no caller
 * waits longer. Thread-safe.
 */
public final class ClusterRouter {
    private final ActorSystem<?> system;
    private final ActorRef<DoorCommand> doors;
    private final VolumeView view;
    private final LocalDispatch local;
    private final Duration timeout;
    private final NodeCounters counters;
    private final Clock clock;
    private final ClusterNamespace namespace;
    /** Requests sent to another member and not answered yet, and the most there have been at once. */
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();

    public ClusterRouter(ActorSystem<?> system, ActorRef<DoorCommand> doors, VolumeView view, LocalDispatch local,
            Duration timeout, NodeCounters counters, Clock clock) {
        this.system = system;
        this.doors = doors;
        this.view = view;
        this.local = local;
        this.timeout = timeout;
        this.counters = counters;
        this.clock = clock;
        this.namespace = new ClusterNamespace(this, view);
        for (String name : new String[] {NodeCounters.REMOTE_REQUESTS, NodeCounters.REMOTE_SERVED, NodeCounters.REMOTE_HOSTDOWN,
            NodeCounters.REMOTE_EXPIRED}) {
            counters.add(name, 0);
        }
        counters.gauge(NodeCounters.REMOTE_IN_FLIGHT, inFlight::get);
        counters.gauge(NodeCounters.REMOTE_IN_FLIGHT_PEAK, peak::get);
    }

    /** A request for a file on another member's volume. */
    public CompletionStage<Reply> inode(Request.InodeRequest request, Caller caller) {
        VolumeView.Owner owner = view.ownerOfTag(request.file().volume());
        if (owner == null) {
            return hostDown("no member of the cluster serves the volume of " + request.file()
                    + " (its member left, or the handle is from another cluster)");
        }
        return send(owner.volume(), VolumeDoors.inodeEntity(owner.volume(), request.ino()), request, caller);
    }

    /** A namespace request, over every volume of the cluster. */
    public CompletionStage<Reply> namespace(Request.NamespaceRequest request, Caller caller) {
        return namespace.handle(request, caller);
    }

    /** {@code request} to the entity {@code entity} of {@code volume}: served here when the volume is this member's. */
    CompletionStage<Reply> send(String volume, String entity, Request request, Caller caller) {
        if (volume.equals(view.localVolume())) {
            return local.dispatchLocal(request, caller);
        }
        VolumeView.Owner owner = view.ownerOf(volume);
        if (owner == null) {
            return hostDown("no member of the cluster serves volume " + volume);
        }
        if (!owner.serving()) {
            return hostDown("the node serving volume " + volume + " (" + owner.address() + ") is "
                    + (owner.reachable() ? owner.status() : "unreachable"));
        }
        counters.inc(NodeCounters.REMOTE_REQUESTS);
        peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        long deadline = clock.millis() + timeout.toMillis();
        CompletionStage<Reply> asked = AskPattern.ask(doors,
                (ActorRef<Reply> replyTo) -> new DoorCommand.RemoteOp(entity, request, caller.identity(), replyTo, deadline),
                timeout, system.scheduler());
        return asked.handle((reply, failed) -> {
            inFlight.decrementAndGet();
            if (failed == null && reply != null) {
                return CompletableFuture.completedFuture(reply);
            }
            return hostDown("no answer within " + timeout.toMillis() + " ms from the node serving volume " + volume + " ("
                    + owner.address() + ")");
        }).thenCompose(r -> r);
    }

    private CompletionStage<Reply> hostDown(String why) {
        counters.inc(NodeCounters.REMOTE_HOSTDOWN);
        return CompletableFuture.completedFuture(new Reply.Error(Errno.EHOSTDOWN, why));
    }
}
