package dionode.node.server;

import dionode.node.cluster.ClusterRouter;
import dionode.node.cluster.LocalDispatch;
import dionode.node.inode.Caller;
import dionode.node.inode.InodeCommand;
import dionode.node.inode.InodeRefs;
import dionode.node.inode.NodeCounters;
import dionode.node.namespace.NamespaceActor;
import dionode.node.trace.OpTrace;
import dionode.node.trace.StageLatencies;
import dionode.node.trace.TracedReply;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.Wire;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each decoded request goes: namespace requests to the namespace actor, inode requests to
 * their inode's actor (a {@code tell} carrying the reply future: no temporary actor per request),
 * stats answered here. A request whose fields cannot be acted on ({@link Request#checkFields()}:
 * the codec decodes nulls and negative numbers as readily as anything else) is answered EINVAL
 * here and reaches no actor. Members are answered here too, from the cluster's state. Every request dispatched is answered, so {@link #inFlight()} returns
 * to 0. Thread-safe.
 */
public final class Dispatcher implements LocalDispatch {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

    private final ActorRef<NamespaceActor.Command> namespace;
    private final InodeRefs inodes;
    private final NodeCounters counters;
    private final long maxIno;
    private final StageLatencies latencies;
    private final Membership members;
    /** This node's volume (uuid) and its handles' tag; a handle or create naming another volume is not served here. */
    private final String volume;
    private final long volumeTag;
    private final AtomicLong inFlight = new AtomicLong();
    /** Set once at start when the node is a cluster member, before any listener binds; null for a lone node. */
    private volatile ClusterRouter cluster;

    /** @param members the answer to {@code members}, and the address a stat names as the file's node */
    public Dispatcher(ActorRef<NamespaceActor.Command> namespace, InodeRefs inodes, NodeCounters counters, long maxIno,
            StageLatencies latencies, Membership members) {
        this.members = members;
        this.volume = members.volume();
        this.volumeTag = volume == null ? 0 : FileId.volumeTag(volume);
        this.namespace = namespace;
        this.inodes = inodes;
        this.counters = counters;
        this.maxIno = maxIno;
        this.latencies = latencies;
    }

    /** A trace for a request just decoded: inode requests are traced, the others are not (DESIGN §6). */
    public OpTrace trace(Request request) {
        return request instanceof Request.InodeRequest ? latencies.begin(OP_NAMES.get(request.getClass())) : OpTrace.NONE;
    }

    /** A request's kind as metrics label it: {@code write}, {@code punch_hole}; computed once per class. */
    private static final ClassValue<String> OP_NAMES = new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
            return type.getSimpleName().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
        }
    };

    /**
     * {@link #dispatch(Request, OpTrace)} for a front-end that does not see its replies reach the
     * socket (NBD): the trace ends when the reply is ready.
     */
    public CompletionStage<Reply> dispatch(Request request) {
        return dispatch(request, Caller.ANONYMOUS);
    }

    /** {@link #dispatch(Request)} for a request from {@code caller}. */
    public CompletionStage<Reply> dispatch(Request request, Caller caller) {
        OpTrace trace = trace(request);
        CompletionStage<Reply> reply = dispatch(request, caller, trace);
        reply.whenComplete((r, e) -> trace.replied());
        return reply;
    }

    /** Where traced requests' figures go (stats' latency window; the metrics observe it). */
    public StageLatencies latencies() {
        return latencies;
    }

    /** Requests dispatched and not yet answered (clean shutdown waits for 0). */
    public long inFlight() {
        return inFlight.get();
    }

    /** From now on, requests for other members' volumes and namespace requests go through {@code router} (DESIGN §7). */
    public void routeThrough(ClusterRouter router) {
        this.cluster = router;
    }

    /** Routes {@code request} from {@code caller}; {@code trace} travels with it (the front-end ends it once the reply is sent). */
    public CompletionStage<Reply> dispatch(Request request, Caller caller, OpTrace trace) {
        return dispatch(request, caller, trace, cluster);
    }

    /**
     * Serves {@code request} on this member's own volume, never forwarding it: the door of a
     * request another member sent here, or the cluster namespace asking this volume.
     */
    @Override
    public CompletionStage<Reply> dispatchLocal(Request request, Caller caller) {
        OpTrace trace = trace(request);
        CompletionStage<Reply> reply = dispatch(request, caller, trace, null);
        reply.whenComplete((r, e) -> trace.replied());
        return reply;
    }

    private CompletionStage<Reply> dispatch(Request request, Caller caller, OpTrace trace, ClusterRouter router) {
        CompletableFuture<Reply> reply = new TracedReply(trace);
        inFlight.incrementAndGet();
        reply.whenComplete((r, e) -> inFlight.decrementAndGet());
        try {
            route(request, caller, reply, router);
        } catch (RuntimeException e) {
            // never leave a reply (and the in-flight count) hanging, whatever the request held
            LOG.error("request {} failed before reaching its actor", request.getClass().getSimpleName(), e);
            reply.complete(new Reply.Error(Errno.EIO, "the node failed to take the request: " + e));
        }
        return reply;
    }

    private void route(Request request, Caller caller, CompletableFuture<Reply> reply, ClusterRouter router) {
        String malformed = request.checkFields();
        if (malformed != null) {
            reply.complete(new Reply.Error(Errno.EINVAL, malformed));
        } else if (router != null && request instanceof Request.InodeRequest r && foreign(r.file())) {
            relay(router.inode(r, caller), reply);
        } else if (router != null && request instanceof Request.NamespaceRequest n) {
            relay(router.namespace(n, caller), reply);
        } else if (request instanceof Request.Create c && c.volume() != null && !c.volume().equals(volume)) {
            reply.complete(new Reply.Error(Errno.EINVAL, "this node mounts volume " + volume + ", not " + c.volume()
                    + (router == null ? " (it is not in a cluster)" : "")));
        } else if (request instanceof Request.InodeRequest r) {
            if (foreign(r.file())) {
                reply.complete(new Reply.Error(Errno.ESTALE, "the handle " + r.file() + " is for another volume than this node's"
                        + " (it was given out by another node)"));
            } else if (r.ino() < 1 || r.ino() > maxIno) {
                reply.complete(new Reply.Error(Errno.ENOENT, "no inode " + r.ino()));
            } else if (r instanceof Request.Write w && w.data().length > Wire.MAX_IO_BYTES) {
                reply.complete(new Reply.Error(Errno.EINVAL, "write of " + w.data().length + " bytes exceeds the maximum of "
                        + Wire.MAX_IO_BYTES));
            } else if (r instanceof Request.Stat) {
                CompletableFuture<Reply> stat = new CompletableFuture<>();
                inodes.tell(r.ino(), new InodeCommand.Op(r, caller, stat));
                relay(stat.thenApply(answer -> answer instanceof Reply.FileStat s ? s.servedBy(members.selfAddress()) : answer), reply);
            } else {
                inodes.tell(r.ino(), new InodeCommand.Op(r, caller, reply));
            }
        } else if (request instanceof Request.NamespaceRequest n) {
            namespace.tell(new NamespaceActor.Op(n, caller, reply));
        } else if (request instanceof Request.Members) {
            reply.complete(members.get());
        } else {
            reply.complete(new Reply.Stats(counters.snapshot()));
        }
    }

    /** Whether {@code file} is on another volume than this node's (a handle naming volume 0 is this node's own). */
    private boolean foreign(FileId file) {
        return file.volume() != 0 && file.volume() != volumeTag;
    }

    /** Completes {@code reply} with what {@code answer} gives; a failure (never expected) is EIO, so no reply hangs. */
    private static void relay(CompletionStage<Reply> answer, CompletableFuture<Reply> reply) {
        answer.whenComplete((r, e) -> reply.complete(r != null ? r : new Reply.Error(Errno.EIO, "the node failed the request: " + e)));
    }
}
