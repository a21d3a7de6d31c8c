package dionode.node.cluster;

import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a volume's door entity accepts (DESIGN §7): requests that entered the cluster at another
 * member, and the stop its shard sends when it passivates the door. Immutable; {@link RemoteOp}
 * crosses the network ({@link ClusterWireSerializer}).
 */
public sealed interface DoorCommand {

    /**
     * A request for one of this volume's files (or its namespace) from the member that took it.
     *
     * @param entity         the entity it is addressed to: {@code <volume>/<ino>} or {@code <volume>/namespace}
     * @param caller         the identity the entry member authenticated (members trust each other: DESIGN §7)
     * @param replyTo        where the reply goes, on the entry member
     * @param deadlineMillis wall-clock time after which the entry member has answered EHOSTDOWN: a request
     *                       that arrives later is dropped, not run behind the caller's back
     */
    record RemoteOp(String entity, Request request, String caller, ActorRef<Reply> replyTo, long deadlineMillis)
            implements DoorCommand {
    }

    /** The shard's stop message: queued behind the requests already in the door's mailbox, so none is lost. */
    enum Stop implements DoorCommand {
        INSTANCE
    }
}
