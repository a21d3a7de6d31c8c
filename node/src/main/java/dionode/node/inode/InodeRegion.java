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

    /** A live child and how many messages it was forwarded (what its Idle report must match). */
    private static final class Child {
        final ActorRef<InodeCommand> ref;
        long forwarded;

        Child(ActorRef<InodeCommand> ref) {
            this.ref = ref;
        }
    }

    private final InodeContext ctx;
    private final Map<Long, Child> children = new HashMap<>();
    private long incarnation;

    public static Behavior<Command> create(InodeContext ctx) {
        return Behaviors.setup(context -> new InodeRegion(context, ctx));
    }

    /** The addressing interface over a region actor. */
    public static InodeRefs refs(ActorRef<Command> region) {
        return (ino, cmd) -> region.tell(new Forward(ino, cmd));
    }

    private InodeRegion(ActorContext<Command> context, InodeContext ctx) {
        super(context);
        this.ctx = ctx;
        ctx.counters().extentCache(ctx.volume().extentCache());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Forward.class, this::onForward)
                .onMessage(Idle.class, this::onIdle)
                .onMessage(ChildStopped.class, this::onChildStopped)
                .onMessage(CountChildren.class, count -> {
                    count.reply().complete(children.size());
                    return this;
                })
                .build();
    }

    private Behavior<Command> onForward(Forward forward) {
        Child child = children.get(forward.ino());
        if (child == null) {
            ActorRef<InodeCommand> ref = getContext().spawn(InodeActor.create(forward.ino(), ctx, getContext().getSelf()),
                    "inode-" + forward.ino() + "-" + (incarnation++));
            getContext().watchWith(ref, new ChildStopped(forward.ino(), ref));
            child = new Child(ref);
            children.put(forward.ino(), child);
        }
        child.forwarded++;
        child.ref.tell(forward.command());
        return this;
    }

    private Behavior<Command> onIdle(Idle idle) {
        Child child = children.get(idle.ino());
        if (child != null && child.ref.equals(idle.child()) && child.forwarded == idle.received()) {
            children.remove(idle.ino());
            getContext().stop(child.ref);
        }
        return this;
    }

    private Behavior<Command> onChildStopped(ChildStopped stopped) {
        Child child = children.get(stopped.ino());
        if (child != null && child.ref.equals(stopped.child())) {
            children.remove(stopped.ino());
        }
        return this;
    }
}
