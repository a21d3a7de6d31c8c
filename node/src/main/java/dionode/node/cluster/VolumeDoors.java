package dionode.node.cluster;

import dionode.node.inode.Caller;
import dionode.node.inode.NodeCounters;
import dionode.protocol.message.Reply;
import java.time.Clock;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The sharded entities through which members reach each other's files (DESIGN §7). Entity ids are
 * {@code <volume>/<ino>} for a file and {@code <volume>/namespace} for a volume's names; the shard
 * is the volume ({@link #shardOf}), placed by {@link VolumeAllocation} on the member that mounts it.
 * An entity is that file's door on its owner: it hands each request to the owner's dispatcher
 * ({@link LocalDispatch}), the path the owner's own clients take, so one inode actor serves a file
 * whichever member a request entered at, and the owner's local requests never wait on sharding or
 * its coordinator. Thread-safe.
 */
public final class VolumeDoors {
    public static final EntityTypeKey<DoorCommand> TYPE = EntityTypeKey.create(DoorCommand.class, "inode");
    static final String NAMESPACE = "namespace";

    private VolumeDoors() {
    }

    /** Starts this member's region for the doors; the ref takes {@link DoorCommand.RemoteOp}s for any volume. */
    public static ActorRef<DoorCommand> start(ActorSystem<?> system, LocalDispatch local, NodeCounters counters, Clock clock) {
        Entity<DoorCommand, DoorCommand> entity = Entity.of(TYPE, ctx -> door(local, counters, clock))
                .withMessageExtractor(new Extractor())
                .withStopMessage(DoorCommand.Stop.INSTANCE)
                .withAllocationStrategy(new VolumeAllocation(Adapter.toClassic(system)));
        return ClusterSharding.get(system).init(entity);
    }

    public static String inodeEntity(String volume, long ino) {
        return volume + "/" + ino;
    }

    public static String namespaceEntity(String volume) {
        return volume + "/" + NAMESPACE;
    }

    /** The shard of an entity: its volume. */
    static String shardOf(String entityId) {
        int slash = entityId.indexOf('/');
        return slash < 0 ? entityId : entityId.substring(0, slash);
    }

    private static Behavior<DoorCommand> door(LocalDispatch local, NodeCounters counters, Clock clock) {
        return Behaviors.receive(DoorCommand.class)
                .onMessage(DoorCommand.RemoteOp.class, op -> {
                    if (clock.millis() > op.deadlineMillis()) {
                        // the entry member has answered EHOSTDOWN already: running it now would surprise its caller
                        counters.inc(NodeCounters.REMOTE_EXPIRED);
                    } else {
                        counters.inc(NodeCounters.REMOTE_SERVED);
                        ActorRef<Reply> to = op.replyTo();
                        local.dispatchLocal(op.request(), new Caller(op.caller())).whenComplete((reply, e) -> to.tell(reply));
                    }
                    return Behaviors.same();
                })
                .onMessageEquals(DoorCommand.Stop.INSTANCE, Behaviors::stopped)
                .build();
    }

    /** Entity id and shard from the message itself: no envelope to build per request. */
    private static final class Extractor extends ShardingMessageExtractor<DoorCommand, DoorCommand> {
        @Override
        public String entityId(DoorCommand message) {
            return ((DoorCommand.RemoteOp) message).entity();
        }

        @Override
        public String shardId(String entityId) {
            return shardOf(entityId);
        }

        @Override
        public DoorCommand unwrapMessage(DoorCommand message) {
            return message;
        }
    }
}
