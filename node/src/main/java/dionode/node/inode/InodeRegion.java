package dionode.node.inode;

import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Spawns inode actors on demand and passivates idle ones, like a local shard region. Passivation
 * is safe without buffering: an idle actor reports how many messages it has received, and the
 * region stops it only if it forwarded exactly that many (nothing can be in its mailbox).
 * Confined to its actor.
 */
public final class InodeRegion extends AbstractBehavior<InodeRegion.Command> {

    public sealed interface Command {
    }

    public record Forward(long ino, InodeCommand command) implements Command {
    }

    /** From a child with nothing in flight. */
    public record Idle(long ino, long received, ActorRef<InodeCommand> child) implements Command {
    }

    /** A child stopped (passivated, or failed): later requests for its inode get a fresh actor. */
    private record ChildStopped(long ino, ActorRef<InodeCommand> child) implements Command {
    }

    /** Number of live inode actors, for tests and stats. */
    public record CountChildren(java.util.concurrent.CompletableFuture<Integer> reply) implements Command {
    }

    private record Child(ActorRef<InodeCommand> ref, long[] forwarded) {
    }

    private final InodeContext ctx;
    private final Map<Long, Child> children = new HashMap<>();
    private long incarnation;

    public static Behavior<Command> create(InodeContext ctx) {
        return Behaviors.setup(c -> new InodeRegion(c, ctx));
    }

    /** The addressing interface over a region actor. */
    public static InodeRefs refs(ActorRef<Command> region) {
        return (ino, cmd) -> region.tell(new Forward(ino, cmd));
    }

    private InodeRegion(ActorContext<Command> context, InodeContext ctx) {
        super(context);
        this.ctx = ctx;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Forward.class, this::onForward)
                .onMessage(Idle.class, this::onIdle)
                .onMessage(ChildStopped.class, this::onChildStopped)
                .onMessage(CountChildren.class, m -> {
                    m.reply().complete(children.size());
                    return this;
                })
                .build();
    }

    private Behavior<Command> onForward(Forward f) {
        Child c = children.get(f.ino());
        if (c == null) {
            ActorRef<InodeCommand> ref = getContext().spawn(InodeActor.create(f.ino(), ctx, getContext().getSelf()),
                    "inode-" + f.ino() + "-" + (incarnation++));
            getContext().watchWith(ref, new ChildStopped(f.ino(), ref));
            c = new Child(ref, new long[1]);
            children.put(f.ino(), c);
        }
        c.forwarded()[0]++;
        c.ref().tell(f.command());
        return this;
    }

    private Behavior<Command> onIdle(Idle m) {
        Child c = children.get(m.ino());
        if (c != null && c.ref().equals(m.child()) && c.forwarded()[0] == m.received()) {
            children.remove(m.ino());
            getContext().stop(c.ref());
        }
        return this;
    }

    private Behavior<Command> onChildStopped(ChildStopped m) {
        Child c = children.get(m.ino());
        if (c != null && c.ref().equals(m.child())) {
            children.remove(m.ino());
        }
        return this;
    }
}
