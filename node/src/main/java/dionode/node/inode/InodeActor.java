package dionode.node.inode;

import dionode.node.fs.Inode;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One file: receives its requests and dispatches them to the rooms that carry them out
 * ({@link WritePath}, {@link ReadPath}, {@link ExtentOps}, {@link InodeStat}), and owns the
 * file's {@link InodeState}: metadata, {@code i_rwsem}, direct I/O in flight, parked requests
 * (DESIGN §1-§4). It runs the requests the lock is handed to, answers every request it holds if
 * it stops, and asks to be passivated when idle. The actor never blocks: device I/O runs on the
 * {@link DataPath}, journal commits on the journal thread, and what the kernel would sleep for
 * (the lock, inode_dio_wait, journal space, extent blocks read from the device) parks the
 * request until a message resumes it. A
 * NOWAIT request is never parked. Confined to its actor.
 */
public final class InodeActor extends AbstractBehavior<InodeCommand> {
    private static final Logger LOG = LoggerFactory.getLogger(InodeActor.class);

    private final InodeState state;
    private final InodeContext ctx;
    private final ActorRef<InodeRegion.Command> region;
    private boolean granting;
    private final Received received;
    private long receivedAtLastTick = -1;
    private final StallWatch stall = new StallWatch();

    /**
     * A failure no handler expects (an Error from below) restarts the actor rather than stopping
     * it: the requests it held are answered EIO (PreRestart), a fresh state is loaded, and what is
     * already in its mailbox is served by it. A stopped actor would drop those into dead letters
     * unanswered, since the region forwards to it until it learns of the stop.
     */
    public static Behavior<InodeCommand> create(long ino, InodeContext ctx, ActorRef<InodeRegion.Command> region) {
        Received received = new Received();
        return Behaviors.supervise(Behaviors.<InodeCommand>setup(context -> Behaviors.withTimers(
                timers -> new InodeActor(context, timers, ino, ctx, region, received))))
                .onFailure(Throwable.class, SupervisorStrategy.restart());
    }

    /** Messages received, kept across restarts: what the region's count of forwarded messages is compared with. */
    private static final class Received {
        long count;
    }

    private InodeActor(ActorContext<InodeCommand> context, TimerScheduler<InodeCommand> timers, long ino, InodeContext ctx,
            ActorRef<InodeRegion.Command> region, Received received) {
        super(context);
        this.received = received;
        this.ctx = ctx;
        this.region = region;
        this.state = new InodeState(ino, ctx, context.getSelf());
        state.open();
        timers.startTimerWithFixedDelay(InodeCommand.IdleTick.INSTANCE, ctx.idleTimeout());
    }

    @Override
    public Receive<InodeCommand> createReceive() {
        return newReceiveBuilder()
                .onMessage(InodeCommand.Op.class, this::onOp)
                .onMessage(InodeCommand.Delete.class, this::onDelete)
                .onMessage(InodeCommand.Resume.class, this::onResume)
                .onMessage(InodeCommand.Probe.class, this::onProbe)
                .onMessage(InodeCommand.IdleTick.class, tick -> onIdleTick())
                .onSignal(PostStop.class, signal -> onPostStop())
                .onSignal(PreRestart.class, signal -> onPostStop())
                .build();
    }

    private Behavior<InodeCommand> onOp(InodeCommand.Op op) {
        received.count++;
        stall.progress();
        reopenIfDeleted();
        Reply.Error denied;
        if (state.deleted()) {
            state.reply(op.reply(), noInode());
        } else if (state.corrupt() != null) {
            state.reply(op.reply(), new Reply.Error(Errno.EFSCORRUPTED, state.corrupt()));
        } else if (state.inode().identity()) {
            state.reply(op.reply(), noInode());
        } else if (op.request().file().generation() != state.inode().generation) {
            state.reply(op.reply(), stale(op.request().file()));
        } else if ((denied = denied(AccessRules.need(op.request()), op.caller(), verb(op.request()))) != null) {
            state.reply(op.reply(), denied);
        } else {
            try {
                dispatch(op.request(), op.reply());
            } catch (RuntimeException failure) {
                state.reply(op.reply(), state.failure(failure));
            }
        }
        runGranted();
        return this;
    }

    private void dispatch(Request.InodeRequest request, CompletableFuture<Reply> reply) {
        Inode inode = state.inode();
        if (inode.dax() && movesData(request)) {
            dispatchDax(request, reply);
        } else if (request instanceof Request.Write write) {
            WritePath.start(state, write, reply);
        } else if (request instanceof Request.Read read) {
            ReadPath.start(state, read, reply);
        } else if (request instanceof Request.Stat) {
            new Inspect(state, reply, () -> InodeStat.stat(inode)).granted();
        } else if (request instanceof Request.Fiemap fiemap) {
            new Inspect(state, reply, () -> InodeStat.fiemap(inode, fiemap.offset(), fiemap.length())).granted();
        } else if (request instanceof Request.Fsync) {
            WritePath.fsync(state, reply);
        } else if (request instanceof Request.Truncate truncate) {
            ExtentOps.truncate(state, reply, truncate.size());
        } else if (request instanceof Request.PunchHole punch) {
            ExtentOps.punchHole(state, reply, punch.offset(), punch.length());
        } else if (request instanceof Request.Fallocate fallocate) {
            ExtentOps.fallocate(state, reply, fallocate.offset(), fallocate.length(), fallocate.keepSize());
        } else if (request instanceof Request.ZeroRange zero) {
            ExtentOps.zeroRange(state, reply, zero.offset(), zero.length());
        } else if (request instanceof Request.Chmod chmod) {
            ExtentOps.chmod(state, reply, chmod.mode());
        } else if (request instanceof Request.Explain explain) {
            ExplainPath.start(state, explain, reply);
        } else {
            state.reply(reply, new Reply.Error(Errno.EINVAL, "not an inode request: " + request));
        }
    }

    /** Requests that read or write a file's data bytes (the others change only metadata). */
    private static boolean movesData(Request.InodeRequest request) {
        return request instanceof Request.Write || request instanceof Request.Read || request instanceof Request.ZeroRange
                || request instanceof Request.PunchHole;
    }

    /** A DAX file: every read and write through the mapping, whatever its direct or buffered flag (ext4 -o dax). */
    private void dispatchDax(Request.InodeRequest request, CompletableFuture<Reply> reply) {
        if (state.dax == null) {
            state.reply(reply, new Reply.Error(Errno.EOPNOTSUPP, "inode " + state.ino + " is a DAX file and " + state.daxRefusal));
        } else if (request instanceof Request.Write write) {
            DaxPath.write(state, write, reply);
        } else if (request instanceof Request.Read read) {
            ReadPath.start(state, read, reply);
        } else if (request instanceof Request.PunchHole punch) {
            ExtentOps.punchHole(state, reply, punch.offset(), punch.length());
        } else if (request instanceof Request.ZeroRange zero) {
            ExtentOps.zeroRange(state, reply, zero.offset(), zero.length());
        }
    }

    /** stat and fiemap: no lock, but parked like any request while extent blocks they walk are read. */
    private static final class Inspect extends InodeOp {
        private final Supplier<Reply> answer;

        Inspect(InodeState state, CompletableFuture<Reply> reply, Supplier<Reply> answer) {
            super(state, reply);
            this.answer = answer;
        }

        @Override
        void granted() {
            Reply done = lookup(answer, false, this::granted);
            if (done != null) {
                succeed(done);
            }
        }
    }

    private Behavior<InodeCommand> onDelete(InodeCommand.Delete delete) {
        received.count++;
        stall.progress();
        reopenIfDeleted();
        if (state.deleted()) {
            state.reply(delete.reply(), noInode());
        } else if (state.corrupt() != null) {
            state.reply(delete.reply(), new Reply.Error(Errno.EFSCORRUPTED, state.corrupt()));
        } else {
            Reply.Error denied = denied(AccessRules.Need.OWNER, delete.caller(), "unlink");
            if (denied != null) {
                state.reply(delete.reply(), denied);
            } else {
                ExtentOps.delete(state, delete.reply());
            }
        }
        runGranted();
        return this;
    }

    private Behavior<InodeCommand> onResume(InodeCommand.Resume resume) {
        if (resume.owner() != state) {
            // a completion for requests of the state before a restart: they were answered EIO then
            LOG.debug("inode {}: a completion from before the actor restarted, dropped", state.ino);
            return this;
        }
        stall.progress();
        resume.action().run();
        runGranted();
        return this;
    }

    private Behavior<InodeCommand> onProbe(InodeCommand.Probe probe) {
        probe.reply().complete(state.snapshot());
        return this;
    }

    /**
     * Runs the requests the lock was handed to, trampolined so a chain of grants never deepens the
     * stack. A request granted after the file was unlinked (or found corrupt) while it waited
     * answers what it would have answered arriving now: it must not run against an inode that is
     * gone, and it must not be left unanswered.
     */
    private void runGranted() {
        if (granting) {
            return;
        }
        granting = true;
        try {
            InodeOp op;
            while ((op = state.nextGranted()) != null) {
                if (state.deleted()) {
                    op.fail(new Reply.Error(Errno.ENOENT, "inode " + state.ino + " was unlinked while this request waited"));
                } else if (state.corrupt() != null) {
                    op.fail(new Reply.Error(Errno.EFSCORRUPTED, state.corrupt()));
                } else {
                    try {
                        op.granted();
                    } catch (RuntimeException failure) {
                        op.fail(failure);
                    }
                }
            }
        } finally {
            granting = false;
        }
    }

    /**
     * Passivation, and the stall warning: requests in hand and not one message that could move
     * them on for a whole tick is a wedge or a device that stopped answering, never silent.
     */
    private Behavior<InodeCommand> onIdleTick() {
        if (stall.newlyStalled(state.liveCount() > 0)) {
            LOG.warn("inode {}: {} requests made no progress for {} ms: {}", state.ino, state.liveCount(),
                    ctx.idleTimeout().toMillis(), state.snapshot());
        }
        if (state.quiet() && received.count == receivedAtLastTick) {
            region.tell(new InodeRegion.Idle(state.ino, received.count, getContext().getSelf()));
        }
        receivedAtLastTick = received.count;
        return this;
    }

    /**
     * Passivation stops an idle actor; anything else that stops it (node shutdown, a failure that
     * escaped a handler) must still answer every request it holds, or its client waits forever.
     */
    private Behavior<InodeCommand> onPostStop() {
        // clean pages go with the actor; dirty ones (a restart) stay for the next
        ctx.cache().release(state.ino, state.owner);
        if (state.liveCount() > 0) {
            LOG.warn("inode {}: actor stopped with {} requests unanswered; answering EIO", state.ino, state.liveCount());
            for (InodeOp op : state.live()) {
                op.fail(new Reply.Error(Errno.EIO, "inode " + state.ino + " stopped before this request finished"));
            }
        }
        return this;
    }

    /** A number with no file when this actor last looked may have been given to a new file since. */
    private void reopenIfDeleted() {
        if (state.deleted()) {
            state.open();
        }
    }

    /** The EACCES of {@code caller} asking {@code need} of this file, or null (AccessRules). */
    private Reply.Error denied(AccessRules.Need need, Caller caller, String what) {
        Inode inode = state.inode();
        boolean isOwner = inode.owner == ctx.volume().identities().number(caller.identity());
        return ctx.access().check(need, caller, isOwner, inode.mode, what);
    }

    /** The request as a verb for a refusal: "read", "write", "chmod". */
    private static String verb(Request.InodeRequest request) {
        return switch (AccessRules.need(request)) {
            case READ -> request instanceof Request.Read ? "read" : "look at";
            case WRITE -> "write";
            case READ_OR_WRITE -> "fsync";
            case OWNER -> "chmod";
        };
    }

    private Reply.Error noInode() {
        return new Reply.Error(Errno.ENOENT, "no inode " + state.ino);
    }

    /** A handle to an earlier file at this number (nfsd's fh_verify finding another i_generation). */
    private static Reply.Error stale(FileId file) {
        return new Reply.Error(Errno.ESTALE, "stale file handle: the file of " + file + " was removed and its number reused by"
                + " another file; look the name up again");
    }
}
