package dionode.node.inode;

import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.concurrent.CompletableFuture;

/** Messages an inode actor accepts. Immutable records (futures are completed, never replaced). */
public sealed interface InodeCommand {

    /** A client request for this inode, from {@code caller}; the reply future is completed exactly once. */
    record Op(Request.InodeRequest request, Caller caller, CompletableFuture<Reply> reply) implements InodeCommand {
    }

    /** unlink by {@code caller}: drop the inode and free its blocks (from the namespace, which already removed the name). */
    record Delete(Caller caller, CompletableFuture<Reply> reply) implements InodeCommand {
    }

    /** Lock and I/O state, for tests and diagnostics. */
    record Probe(CompletableFuture<LockSnapshot> reply) implements InodeCommand {
    }

    /** A completion (device I/O, journal space, commit) continuing inside the actor, for the state it was started from. */
    record Resume(InodeState owner, Runnable action) implements InodeCommand {
    }

    /** Periodic check for passivation. */
    enum IdleTick implements InodeCommand {
        INSTANCE
    }

    /** What {@link Probe} reports. Immutable. */
    record LockSnapshot(int readers, boolean writer, int waiting, int dioInFlight, int drainWaiters, int journalWaiters,
            int pending, long size, long disksize, int mode, boolean orphan) {
    }
}
