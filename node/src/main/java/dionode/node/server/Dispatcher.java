package dionode.node.server;

import dionode.node.inode.InodeCommand;
import dionode.node.inode.InodeRefs;
import dionode.node.inode.NodeCounters;
import dionode.node.namespace.NamespaceActor;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.Wire;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Where each decoded request goes: namespace requests to the namespace actor, inode requests to
 * their inode's actor (a {@code tell} carrying the reply future: no temporary actor per request),
 * stats answered here. Thread-safe.
 */
public final class Dispatcher {
    private final ActorRef<NamespaceActor.Command> namespace;
    private final InodeRefs inodes;
    private final NodeCounters counters;
    private final long maxIno;

    public Dispatcher(ActorRef<NamespaceActor.Command> namespace, InodeRefs inodes, NodeCounters counters, long maxIno) {
        this.namespace = namespace;
        this.inodes = inodes;
        this.counters = counters;
        this.maxIno = maxIno;
    }

    private final java.util.concurrent.atomic.AtomicLong inFlight = new java.util.concurrent.atomic.AtomicLong();

    /** Requests dispatched and not yet answered (clean shutdown waits for 0). */
    public long inFlight() {
        return inFlight.get();
    }

    public CompletionStage<Reply> dispatch(Request request) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        inFlight.incrementAndGet();
        reply.whenComplete((r, e) -> inFlight.decrementAndGet());
        if (request instanceof Request.InodeRequest r) {
            if (r.ino() < 1 || r.ino() > maxIno) {
                reply.complete(new Reply.Error(Errno.ENOENT, "no inode " + r.ino()));
            } else if (r instanceof Request.Write w && w.data().length > Wire.MAX_IO_BYTES) {
                reply.complete(new Reply.Error(Errno.EINVAL, "write of " + w.data().length + " bytes exceeds the maximum of "
                        + Wire.MAX_IO_BYTES));
            } else {
                inodes.tell(r.ino(), new InodeCommand.Op(r, reply));
            }
        } else if (request instanceof Request.NamespaceRequest n) {
            namespace.tell(new NamespaceActor.Op(n, reply));
        } else {
            reply.complete(new Reply.Stats(counters.snapshot()));
        }
        return reply;
    }
}
