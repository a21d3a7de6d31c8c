package dionode.node.inode;

import dionode.node.alloc.BlockAllocator;
import dionode.node.extent.ExtentMissException;
import dionode.node.fs.ExtentSteps;
import dionode.node.fs.Inode;
import dionode.node.journal.Handle;
import dionode.node.lock.LockMode;
import dionode.node.meta.Layout;
import dionode.node.trace.OpTrace;
import dionode.node.trace.Stage;
import dionode.node.trace.TracedReply;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * A request inside an inode actor: its reply, the {@code i_rwsem} hold it has or waits for, and
 * how it continues: in journal steps (each in its own handle, parking while the journal is full),
 * after futures (device I/O, commits), after the extent blocks its lookups missed are read
 * ({@link #lookup}), and when the lock is handed to it ({@link #granted}).
 * Answered exactly once, and the lock goes back when it is. Confined to its inode actor.
 */
abstract class InodeOp {
    /** The inode actor's state this request runs against. */
    final InodeState state;
    private final CompletableFuture<Reply> reply;
    /** Where this request's time goes (DESIGN §6): moved on at each wait below. */
    final OpTrace trace;
    private LockMode held;
    private LockMode wanted;
    private boolean finished;

    InodeOp(InodeState state, CompletableFuture<Reply> reply) {
        this.state = state;
        this.reply = reply;
        this.trace = TracedReply.of(reply);
        trace.enter(Stage.ACTOR);
        state.admit(this);
    }

    /** The lock was handed over (or taken at once). */
    abstract void granted();

    /** The file's metadata (null once the file is unlinked). */
    final Inode inode() {
        return state.inode();
    }

    // ------------------------------------------------------------------ i_rwsem

    /**
     * Takes the lock at once or parks; NOWAIT requests get EAGAIN instead of parking. A request
     * taken at once that fails (corrupt extents found by its lookups) is answered, never left held.
     */
    final void acquire(LockMode mode, boolean nowait) {
        wanted = mode;
        if (state.rwsem.tryLock(mode)) {
            held = mode;
            try {
                granted();
            } catch (RuntimeException failure) {
                fail(failure);
            }
        } else if (nowait) {
            failEagain(NodeCounters.EAGAIN_LOCK, "i_rwsem is not available (" + mode + ")");
        } else if (state.rwsem.enqueue(this, mode)) {
            trace.enter(Stage.LOCK);
            state.counters.inc(NodeCounters.LOCK_WAITS);
        } else {
            fail(new Reply.Error(Errno.EAGAIN, "too many requests waiting for inode " + state.ino));
        }
    }

    /** Trades a shared hold for exclusive when this request is the only holder and nobody waits. */
    final boolean tryUpgrade() {
        if (state.rwsem.tryUpgrade()) {
            held = LockMode.EXCLUSIVE;
            return true;
        }
        return false;
    }

    final LockMode held() {
        return held;
    }

    /** Gives the lock back; the requests it is handed to run from the actor's grant loop. */
    final void releaseLock() {
        if (held != null) {
            LockMode mode = held;
            held = null;
            for (InodeOp waiter : state.rwsem.unlock(mode)) {
                waiter.held = waiter.wanted;
                waiter.trace.enter(Stage.ACTOR);
                state.handOver(waiter);
            }
        }
    }

    // ------------------------------------------------------------------ the answer

    final void succeed(Reply answer) {
        finish(answer);
    }

    final void fail(Reply.Error error) {
        finish(error);
    }

    void fail(Throwable thrown) {
        finish(state.failure(thrown));
    }

    /** A NOWAIT refusal, counted under {@code reason} (one of NodeCounters' EAGAIN_ names) besides the total. */
    final void failEagain(String reason, String message) {
        state.counters.inc(reason);
        fail(new Reply.Error(Errno.EAGAIN, message));
    }

    private void finish(Reply answer) {
        if (finished) {
            return;
        }
        finished = true;
        trace.enter(Stage.REPLY);
        state.answered(this);
        releaseLock();
        ended();
        state.reply(reply, answer);
    }

    /** Runs once, when this request is answered or passed on, after its lock went back. */
    void ended() {
    }

    /** This request goes on as another op with the same reply: this one lets its lock go and is done, unanswered. */
    final void passOn() {
        if (!finished) {
            finished = true;
            state.answered(this);
            releaseLock();
            ended();
        }
    }

    /** The future this request answers (for {@link #passOn}). */
    final CompletableFuture<Reply> reply() {
        return reply;
    }

    // ------------------------------------------------------------------ continuations

    /** Continues with {@code next} as this request's step, after the step that is running returns. */
    final void continueWith(Runnable next) {
        state.steps.continueWith(this, next);
    }

    /**
     * Continues with {@code next} in the actor once {@code future} completes, the time until then
     * spent in {@code waiting} (the device, or the journal's commit); failures go to {@code onError}.
     */
    final <T> void await(CompletableFuture<T> future, Stage waiting, Runnable next, Consumer<Throwable> onError) {
        trace.enter(waiting);
        future.whenComplete((value, thrown) -> {
            trace.enter(Stage.ACTOR);
            state.self.tell(new InodeCommand.Resume(state, () -> {
                try {
                    if (thrown != null) {
                        onError.accept(thrown);
                    } else {
                        next.run();
                    }
                } catch (RuntimeException failure) {
                    fail(failure);
                }
            }));
        });
    }

    // ------------------------------------------------------------------ extent blocks

    /** Extent blocks read per trip to the device; a lookup that needs more misses again for the rest. */
    private static final int BLOCKS_PER_READ = 64;

    /**
     * The answer of {@code lookups}, which must change nothing; null when one needed extent blocks
     * that are not in memory. Then a NOWAIT request is answered EAGAIN (a cache-only lookup,
     * EXT4_GET_BLOCKS_CACHED_NOWAIT: patch 7), and any other parks while they are read and runs
     * {@code retry}, from the start of its lookups (ext4_map_blocks reading the tree under i_data_sem).
     */
    final <T> T lookup(Supplier<T> lookups, boolean nowait, Runnable retry) {
        try {
            return lookups.get();
        } catch (ExtentMissException miss) {
            missed(miss, nowait, retry);
            return null;
        }
    }

    private void missed(ExtentMissException miss, boolean nowait, Runnable retry) {
        if (nowait) {
            failEagain(NodeCounters.EAGAIN_CACHE, "NOWAIT request needs extent blocks that are not in memory; retry without NOWAIT");
        } else {
            readExtentBlocks(miss.wants(), retry);
        }
    }

    /**
     * Reads {@code wants} off the actor's thread (the data path's I/O), then, back in the actor,
     * checks and caches each (a block that fails is EFSCORRUPTED and marks the file bad) and runs
     * {@code next}.
     */
    private void readExtentBlocks(List<ExtentMissException.Want> wants, Runnable next) {
        List<ExtentMissException.Want> batch = wants.subList(0, Math.min(BLOCKS_PER_READ, wants.size()));
        List<DataPath.ReadSeg> segs = new ArrayList<>(batch.size());
        byte[][] images = new byte[batch.size()][];
        for (int i = 0; i < batch.size(); i++) {
            images[i] = new byte[Layout.BLOCK_SIZE];
            segs.add(new DataPath.ReadSeg(batch.get(i).blk() * Layout.BLOCK_SIZE, Layout.BLOCK_SIZE, images[i], 0, 0,
                    Layout.BLOCK_SIZE));
        }
        await(state.data.read(segs), Stage.DEVICE, () -> {
            if (inode() == null) {
                fail(new Reply.Error(Errno.ENOENT, "inode " + state.ino + " was unlinked while this request waited"));
                return;
            }
            for (int i = 0; i < batch.size(); i++) {
                inode().accept(batch.get(i), images[i]);
            }
            next.run();
        }, this::fail);
    }

    /**
     * A handle for this request's next step, or null when there is none now: the journal had no
     * room and {@code retry} was parked until it has, or extent blocks of the file must be read first
     * and {@code retry} runs once they are, or this request was answered (NOWAIT: EAGAIN).
     */
    final Handle handleOrPark(int credits, boolean nowait, Runnable retry) {
        return handleOrPark(credits, nowait, false, retry);
    }

    private Handle handleOrPark(int credits, boolean nowait, boolean recordOnly, Runnable retry) {
        Handle handle;
        try {
            handle = recordOnly ? inode().beginRecord(credits) : inode().begin(credits);
        } catch (ExtentMissException miss) {
            missed(miss, nowait, retry);
            return null;
        } catch (RuntimeException failure) {
            fail(failure);
            return null;
        }
        if (handle == null) {
            if (nowait) {
                failEagain(NodeCounters.EAGAIN_JOURNAL, "journal has no room for a handle");
            } else {
                state.counters.inc(NodeCounters.JOURNAL_WAITS);
                trace.enter(Stage.JOURNAL);
                try {
                    state.parkForJournal(retry);
                } catch (RuntimeException failure) {
                    fail(failure);
                }
            }
        }
        return handle;
    }

    /** Runs {@code work} as one journaled step of the inode, then {@code next}; a failed step is undone. */
    final void inHandle(int credits, boolean nowait, Consumer<Handle> work, Runnable next) {
        inHandle(credits, nowait, false, work, next);
    }

    /**
     * Like {@link #inHandle(int, boolean, Consumer, Runnable)} for a step that changes only the
     * inode's record (times, mode, size, flags): it needs no extent block in memory.
     */
    final void inRecordHandle(boolean nowait, Consumer<Handle> work, Runnable next) {
        inHandle(inode().stepCredits(0), nowait, true, work, next);
    }

    private void inHandle(int credits, boolean nowait, boolean recordOnly, Consumer<Handle> work, Runnable next) {
        Handle handle = handleOrPark(credits, nowait, recordOnly, () -> inHandle(credits, false, recordOnly, work, next));
        if (handle == null) {
            return;
        }
        trace.enter(Stage.JOURNAL);
        try {
            work.accept(handle);
        } catch (RuntimeException failure) {
            inode().abortStep(handle);
            fail(failure);
            return;
        }
        if (closeStep(handle)) {
            trace.enter(Stage.ACTOR);
            continueWith(next);
        }
    }

    private boolean closeStep(Handle handle) {
        try {
            inode().commitStep(handle);
            return true;
        } catch (RuntimeException failure) {
            fail(failure);
            return false;
        }
    }

    /**
     * Runs the steps of {@code kind} over {@code [from, to)}, each in its own handle, then
     * {@code next}; {@code committed} learns what each committed step did.
     */
    final void runSteps(ExtentSteps.Kind kind, long from, long to, LongConsumer committed, Runnable next) {
        runSteps(new ExtentSteps(inode(), kind, from, to), committed, next);
    }

    private void runSteps(ExtentSteps steps, LongConsumer committed, Runnable next) {
        Boolean remaining = lookup(steps::remaining, false, () -> runSteps(steps, committed, next));
        if (remaining == null) {
            return;
        }
        if (!remaining) {
            next.run();
            return;
        }
        inHandle(steps.nextCredits(), false, steps::step, () -> {
            committed.accept(steps.lastStep().blocks());
            runSteps(steps, committed, next);
        });
    }

    /** Removes the extents of {@code [from, to)} and frees their blocks (ext4_ext_remove_space), then {@code next}. */
    final void removeBlocks(long from, long to, Runnable next) {
        runSteps(ExtentSteps.Kind.REMOVE, from, to, blocks -> { }, next);
    }

    /**
     * ENOSPC unless {@code needed} blocks are free and not reserved (data blocks plus the growth
     * of the file's node reservation); when blocks freed by uncommitted transactions would make up
     * the difference, commits them and looks once more (ext4_should_retry_alloc), so that space
     * given back by an unlink or punch is there for the next request.
     */
    final void ensureSpace(long needed, String what, Runnable next) {
        ensureSpace(needed, what, false, next);
    }

    private void ensureSpace(long needed, String what, boolean retried, Runnable next) {
        BlockAllocator allocator = state.volume.allocator();
        if (needed <= allocator.availableBlocks()) {
            next.run();
        } else if (!retried && needed <= allocator.availableBlocks() + allocator.releasingBlocks()) {
            state.counters.inc(NodeCounters.ENOSPC_RETRIES);
            await(state.volume.journal().commit(), Stage.JOURNAL, () -> ensureSpace(needed, what, true, next), this::fail);
        } else {
            fail(new Reply.Error(Errno.ENOSPC, what + " needs " + needed + " blocks, " + allocator.availableBlocks() + " free"));
        }
    }
}
