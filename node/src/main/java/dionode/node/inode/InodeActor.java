package dionode.node.inode;

import static dionode.node.inode.NodeCounters.ALLOCATED_BLOCKS;
import static dionode.node.inode.NodeCounters.CONVERTED_BLOCKS;
import static dionode.node.inode.NodeCounters.DIO_DRAINS;
import static dionode.node.inode.NodeCounters.DIO_IN_FLIGHT;

import dionode.node.alloc.BlockAllocator;
import dionode.node.extent.Extent;
import dionode.node.extent.ExtentCorruptionException;
import dionode.node.extent.ExtentFormat;
import dionode.node.extent.Mapping;
import dionode.node.fs.Inode;
import dionode.node.fs.NoSpaceException;
import dionode.node.fs.StepResult;
import dionode.node.fs.Volume;
import dionode.node.journal.Handle;
import dionode.node.journal.JournalAbortedException;
import dionode.node.lock.DioWriteChecks;
import dionode.node.lock.InodeRwsem;
import dionode.node.lock.LockDecision;
import dionode.node.lock.LockMode;
import dionode.node.meta.InodeRecord;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One file: its metadata, {@code i_rwsem}, the count of direct I/O in flight, and every request
 * against it, re-creating ext4_dio_write_iter / ext4_dio_read_iter and the exclusive paths
 * (truncate, punch, fallocate) in one actor (DESIGN §1-§4). The actor never blocks: device I/O
 * runs on the {@link DataPath}, journal commits on the journal thread, and what the kernel would
 * sleep for (the lock, inode_dio_wait, journal space) parks the request here until a message
 * resumes it. A NOWAIT request is never parked. Confined to its actor.
 */
public final class InodeActor extends AbstractBehavior<InodeCommand> {
    private static final Logger LOG = LoggerFactory.getLogger(InodeActor.class);
    private static final int B = 4096;
    private static final int BLOCK_BITS = 12;
    /** kiocb_modified: timestamps are logged at most this often when a write needs no handle anyway. */
    private static final long TIMESTAMP_GRANULARITY_NANOS = 1_000_000_000L;
    private static final int MAX_FIEMAP_EXTENTS = 16384;

    private final long ino;
    private final InodeContext ctx;
    private final Volume vol;
    private final NodeCounters counters;
    private final ActorRef<InodeRegion.Command> region;
    private final int sectorSize;
    private Inode inode;
    private String corrupt;
    /** No file at this number (never created, or unlinked). */
    private boolean deleted;
    /** This actor unlinked the file, so the number is given back when it stops. */
    private boolean unlinkedHere;

    private final InodeRwsem<Pending> rwsem;
    /** inode_dio_begin/end. */
    private int dioInFlight;
    /** Exclusive holders waiting in inode_dio_wait. */
    private final ArrayDeque<Step> drainWaiters = new ArrayDeque<>();
    /** Steps waiting for journal space (jbd2_journal_start sleeping). */
    private final ArrayDeque<Runnable> journalWaiters = new ArrayDeque<>();
    private boolean spaceRequested;
    /** Lock hand-offs to run, trampolined so a chain of grants never deepens the stack. */
    private final ArrayDeque<Pending> granted = new ArrayDeque<>();
    private boolean granting;
    /** Journal-step continuations to run, trampolined like the grants. */
    private final ArrayDeque<Step> steps = new ArrayDeque<>();
    private boolean stepping;
    /** Every request admitted and not yet answered, so that none is left unanswered if the actor stops. */
    private final Set<Pending> live = new HashSet<>();
    private long received;
    private long receivedAtLastTick = -1;
    private final StallWatch stall = new StallWatch();

    public static Behavior<InodeCommand> create(long ino, InodeContext ctx, ActorRef<InodeRegion.Command> region) {
        return Behaviors.setup(c -> Behaviors.withTimers(t -> new InodeActor(c, t, ino, ctx, region)));
    }

    private InodeActor(ActorContext<InodeCommand> context, TimerScheduler<InodeCommand> timers, long ino, InodeContext ctx,
            ActorRef<InodeRegion.Command> region) {
        super(context);
        this.ino = ino;
        this.ctx = ctx;
        this.vol = ctx.volume();
        this.counters = ctx.counters();
        this.region = region;
        this.sectorSize = vol.device().sectorSize();
        this.rwsem = new InodeRwsem<>(ctx.maxWaiters());
        open();
        timers.startTimerWithFixedDelay(InodeCommand.IdleTick.INSTANCE, ctx.idleTimeout());
    }

    /** Loads the inode's metadata (already in memory since mount: no I/O). */
    private void open() {
        deleted = false;
        try {
            if (!vol.inodes().validIno(ino)) {
                deleted = true;
            } else {
                inode = vol.open(ino);
            }
        } catch (ExtentCorruptionException e) {
            corrupt = e.getMessage();
        } catch (IllegalArgumentException e) {
            deleted = true;
        }
    }

    @Override
    public Receive<InodeCommand> createReceive() {
        return newReceiveBuilder()
                .onMessage(InodeCommand.Op.class, this::onOp)
                .onMessage(InodeCommand.Delete.class, this::onDelete)
                .onMessage(InodeCommand.Resume.class, this::onResume)
                .onMessage(InodeCommand.Probe.class, this::onProbe)
                .onMessage(InodeCommand.IdleTick.class, t -> onIdleTick())
                .onSignal(PostStop.class, s -> onPostStop())
                .build();
    }

    // ====================================================================== dispatch

    private Behavior<InodeCommand> onOp(InodeCommand.Op op) {
        received++;
        stall.progress();
        Request.InodeRequest r = op.request();
        if (deleted && !unlinkedHere) {
            open();
        }
        if (deleted) {
            reply(op.reply(), error(Errno.ENOENT, "no inode " + ino));
            return this;
        }
        if (corrupt != null) {
            reply(op.reply(), error(Errno.EFSCORRUPTED, corrupt));
            return this;
        }
        if (r.file().generation() != inode.generation) {
            reply(op.reply(), stale(r.file()));
            return this;
        }
        try {
            CompletableFuture<Reply> f = op.reply();
            if (r instanceof Request.Write w) {
                startWrite(w, f);
            } else if (r instanceof Request.Read rd) {
                startRead(rd, f);
            } else if (r instanceof Request.Stat) {
                reply(f, stat());
            } else if (r instanceof Request.Fiemap fm) {
                reply(f, fiemap(fm));
            } else if (r instanceof Request.Fsync) {
                fsync(f);
            } else if (r instanceof Request.Truncate t) {
                exclusive(f, x -> truncate(x, t.size()));
            } else if (r instanceof Request.PunchHole p) {
                rangeOp(f, p.offset(), p.length(), x -> punch(x, p.offset(), p.length()));
            } else if (r instanceof Request.Fallocate fa) {
                rangeOp(f, fa.offset(), fa.length(), x -> fallocate(x, fa.offset(), fa.length(), fa.keepSize()));
            } else if (r instanceof Request.ZeroRange z) {
                rangeOp(f, z.offset(), z.length(), x -> zeroRange(x, z.offset(), z.length()));
            } else if (r instanceof Request.Chmod c) {
                exclusive(f, x -> chmod(x, c.mode()));
            } else {
                reply(f, error(Errno.EINVAL, "not an inode request: " + r));
            }
        } catch (RuntimeException e) {
            reply(op.reply(), failure(e));
        }
        runGranted();
        return this;
    }

    private Behavior<InodeCommand> onDelete(InodeCommand.Delete d) {
        received++;
        stall.progress();
        if (deleted) {
            reply(d.reply(), error(Errno.ENOENT, "no inode " + ino));
        } else if (corrupt != null) {
            reply(d.reply(), error(Errno.EFSCORRUPTED, corrupt));
        } else {
            exclusive(d.reply(), this::delete);
        }
        runGranted();
        return this;
    }

    private Behavior<InodeCommand> onResume(InodeCommand.Resume r) {
        stall.progress();
        r.action().run();
        runGranted();
        return this;
    }

    private Behavior<InodeCommand> onProbe(InodeCommand.Probe p) {
        p.reply().complete(snapshot());
        return this;
    }

    private InodeCommand.LockSnapshot snapshot() {
        return new InodeCommand.LockSnapshot(rwsem.readers(), rwsem.writerHeld(), rwsem.waiting(), dioInFlight,
                drainWaiters.size(), journalWaiters.size(), live.size(), inode == null ? -1 : inode.size,
                inode == null ? -1 : inode.disksize, inode == null ? 0 : inode.mode, inode != null && inode.orphan());
    }

    /**
     * Passivation, and the stall warning: requests in hand and not one message that could move
     * them on for a whole tick is a wedge or a device that stopped answering, never silent.
     */
    private Behavior<InodeCommand> onIdleTick() {
        if (stall.newlyStalled(!live.isEmpty())) {
            LOG.warn("inode {}: {} requests made no progress for {} ms: {}", ino, live.size(), ctx.idleTimeout().toMillis(),
                    snapshot());
        }
        boolean quiet = live.isEmpty() && rwsem.idle() && dioInFlight == 0 && journalWaiters.isEmpty()
                && drainWaiters.isEmpty() && granted.isEmpty();
        if (quiet && received == receivedAtLastTick) {
            region.tell(new InodeRegion.Idle(ino, received, getContext().getSelf()));
        }
        receivedAtLastTick = received;
        return this;
    }

    /**
     * Passivation stops an idle actor; anything else that stops it (node shutdown, a failure that
     * escaped a handler) must still answer every request it holds, or its client waits forever.
     */
    private Behavior<InodeCommand> onPostStop() {
        if (!live.isEmpty()) {
            LOG.warn("inode {}: actor stopped with {} requests unanswered; answering EIO", ino, live.size());
            for (Pending p : List.copyOf(live)) {
                p.fail(error(Errno.EIO, "inode " + ino + " stopped before this request finished"));
            }
        }
        if (unlinkedHere) {
            vol.inodes().release(ino);
        }
        return this;
    }

    private void reply(CompletableFuture<Reply> f, Reply r) {
        if (r instanceof Reply.Error e) {
            counters.inc(e.errno() == Errno.EAGAIN ? NodeCounters.EAGAIN : NodeCounters.ERRORS);
        }
        f.complete(r);
    }

    /** A handle to an earlier file at this number (nfsd's fh_verify finding another i_generation). */
    private Reply.Error stale(FileId file) {
        return error(Errno.ESTALE, "stale file handle: the file of " + file + " was removed and its number reused by another"
                + " file; look the name up again");
    }

    private static Reply.Error error(Errno e, String message) {
        return new Reply.Error(e, message);
    }

    /** Maps an exception from a step to the errno the client sees; corruption marks the file bad. */
    private Reply.Error failure(Throwable t) {
        if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof NoSpaceException) {
            return error(Errno.ENOSPC, t.getMessage());
        }
        if (t instanceof JournalAbortedException) {
            return error(Errno.EROFS, "journal aborted after a device error; the node is read-only: " + t.getMessage());
        }
        if (t instanceof ExtentCorruptionException) {
            corrupt = t.getMessage();
            LOG.error("inode {}: {}", ino, t.getMessage());
            return error(Errno.EFSCORRUPTED, t.getMessage());
        }
        if (t instanceof java.util.concurrent.RejectedExecutionException) {
            return error(Errno.EAGAIN, "device queue full");
        }
        if (t instanceof java.io.IOException) {
            return error(Errno.EIO, "device error: " + t.getMessage());
        }
        LOG.error("inode {}: unexpected failure", ino, t);
        return error(Errno.EIO, String.valueOf(t));
    }

    // ====================================================================== requests

    /** A journal step's continuation and the operation it belongs to. */
    private record Step(Pending op, Runnable next) {
    }

    /** A request inside the actor: its reply, the lock it holds, and where it continues when granted. */
    private abstract class Pending {
        final CompletableFuture<Reply> reply;
        LockMode held;
        LockMode wanted;
        boolean finished;

        Pending(CompletableFuture<Reply> reply) {
            this.reply = reply;
            live.add(this);
        }

        /** The lock was handed over (or taken at once). */
        abstract void granted();

        /** Takes the lock at once or parks; NOWAIT requests get EAGAIN instead of parking. */
        void acquire(LockMode mode, boolean nowait) {
            wanted = mode;
            if (rwsem.tryLock(mode)) {
                held = mode;
                granted();
            } else if (nowait) {
                fail(error(Errno.EAGAIN, "i_rwsem is not available (" + mode + ")"));
            } else if (rwsem.enqueue(this, mode)) {
                counters.inc(NodeCounters.LOCK_WAITS);
            } else {
                fail(error(Errno.EAGAIN, "too many requests waiting for inode " + ino));
            }
        }

        void releaseLock() {
            if (held != null) {
                LockMode m = held;
                held = null;
                for (Pending p : rwsem.unlock(m)) {
                    p.held = p.wanted;
                    granted.add(p);
                }
            }
        }

        void succeed(Reply r) {
            finish(r);
        }

        void fail(Reply.Error e) {
            finish(e);
        }

        void fail(Throwable t) {
            finish(failure(t));
        }

        private void finish(Reply r) {
            if (finished) {
                return;
            }
            finished = true;
            live.remove(this);
            releaseLock();
            reply(reply, r);
        }

        /** Runs {@code work} in a journal handle, parking until the journal has room (never for NOWAIT). */
        void inHandle(int credits, boolean nowait, Consumer<Handle> work, Runnable next) {
            Handle h;
            try {
                h = inode.begin(credits);
            } catch (RuntimeException e) {
                fail(e);
                return;
            }
            if (h == null) {
                if (nowait) {
                    fail(error(Errno.EAGAIN, "journal has no room for a handle"));
                } else {
                    counters.inc(NodeCounters.JOURNAL_WAITS);
                    try {
                        parkForJournal(() -> inHandle(credits, false, work, next));
                    } catch (RuntimeException e) {
                        fail(e);
                    }
                }
                return;
            }
            try {
                work.accept(h);
            } catch (RuntimeException e) {
                inode.abortStep(h);
                fail(e);
                return;
            }
            if (closeStep(h)) {
                continueWith(this, next);
            }
        }

        private boolean closeStep(Handle h) {
            try {
                inode.commitStep(h);
                return true;
            } catch (RuntimeException e) {
                fail(e);
                return false;
            }
        }

        /** Continues with {@code next} in the actor once {@code f} completes; failures go to {@code onError}. */
        <T> void await(CompletableFuture<T> f, Runnable next, Consumer<Throwable> onError) {
            ActorRef<InodeCommand> self = getContext().getSelf();
            f.whenComplete((v, e) -> self.tell(new InodeCommand.Resume(() -> {
                try {
                    if (e != null) {
                        onError.accept(e);
                    } else {
                        next.run();
                    }
                } catch (RuntimeException ex) {
                    fail(ex);
                }
            })));
        }
    }

    /**
     * Runs a journal step's continuation once the current one has returned, not inside it: an
     * operation over a large extent map takes thousands of steps in a row (unlinking 2^17 extents
     * overflowed the stack when each step called the next). A step that throws fails its own
     * operation, whichever operation's step is running the loop.
     */
    private void continueWith(Pending op, Runnable next) {
        steps.add(new Step(op, next));
        if (stepping) {
            return;
        }
        stepping = true;
        try {
            Step step;
            while ((step = steps.poll()) != null) {
                try {
                    step.next().run();
                } catch (RuntimeException e) {
                    step.op().fail(e);
                }
            }
        } finally {
            stepping = false;
        }
    }

    /**
     * Runs the requests the lock was handed to. A request granted after the file was unlinked (or
     * found corrupt) while it waited answers what it would have answered arriving now: it must not
     * run against an inode that is gone, and it must not be left unanswered.
     */
    private void runGranted() {
        if (granting) {
            return;
        }
        granting = true;
        try {
            Pending p;
            while ((p = granted.poll()) != null) {
                if (deleted) {
                    p.fail(error(Errno.ENOENT, "inode " + ino + " was unlinked while this request waited"));
                } else if (corrupt != null) {
                    p.fail(error(Errno.EFSCORRUPTED, corrupt));
                } else {
                    try {
                        p.granted();
                    } catch (RuntimeException e) {
                        p.fail(e);
                    }
                }
            }
        } finally {
            granting = false;
        }
    }

    private void parkForJournal(Runnable step) {
        if (journalWaiters.size() >= ctx.maxWaiters()) {
            throw new NoSpaceException("journal wait queue of inode " + ino + " is full");
        }
        journalWaiters.add(step);
        if (!spaceRequested) {
            spaceRequested = true;
            ActorRef<InodeCommand> self = getContext().getSelf();
            try {
                vol.journal().onSpace(() -> self.tell(new InodeCommand.Resume(this::journalHasSpace)));
            } catch (IllegalStateException e) {
                spaceRequested = false;
                throw new JournalAbortedException("journal closed", e);
            }
        }
    }

    private void journalHasSpace() {
        spaceRequested = false;
        int n = journalWaiters.size();
        for (int i = 0; i < n && !journalWaiters.isEmpty(); i++) {
            journalWaiters.poll().run();
        }
    }

    /** Device I/O that fails as a future even if submitting it throws: after dioBegin, dio_end must follow. */
    private static CompletableFuture<Void> submitted(java.util.function.Supplier<CompletableFuture<Void>> io) {
        try {
            return io.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void dioBegin() {
        dioInFlight++;
        counters.add(DIO_IN_FLIGHT, 1);
    }

    /** inode_dio_end: the last completion wakes an exclusive holder in inode_dio_wait. */
    private void dioEnd() {
        dioInFlight--;
        counters.add(DIO_IN_FLIGHT, -1);
        while (dioInFlight == 0 && !drainWaiters.isEmpty()) {
            Step waiter = drainWaiters.poll();
            continueWith(waiter.op(), waiter.next());
        }
    }

    /** inode_dio_wait: {@code then} runs as {@code op}'s step once no direct I/O is in flight. */
    private void inodeDioWait(Pending op, Runnable then) {
        if (dioInFlight == 0) {
            then.run();
        } else {
            counters.inc(DIO_DRAINS);
            drainWaiters.add(new Step(op, then));
        }
    }

    private boolean badRange(CompletableFuture<Reply> reply, long offset, long length, boolean sectorAligned) {
        if (offset < 0 || length < 0) {
            reply(reply, error(Errno.EINVAL, "negative offset or length"));
            return true;
        }
        if (sectorAligned && ((offset | length) & (sectorSize - 1)) != 0) {
            reply(reply, error(Errno.EINVAL, "direct I/O needs offset and length aligned to the " + sectorSize
                    + "-byte sector (offset " + offset + ", length " + length + ")"));
            return true;
        }
        if (offset + length > Inode.MAX_BYTES || offset + length < 0) {
            reply(reply, error(Errno.EFBIG, "range ends past the maximum file size of " + Inode.MAX_BYTES + " bytes"));
            return true;
        }
        return false;
    }

    // ====================================================================== write

    private void startWrite(Request.Write w, CompletableFuture<Reply> reply) {
        boolean buffered = IoFlags.has(w.flags(), IoFlags.BUFFERED);
        if (badRange(reply, w.offset(), w.data().length, !buffered)) {
            return;
        }
        if (w.data().length == 0) {
            reply(reply, new Reply.Written(0));
            return;
        }
        if (buffered && IoFlags.has(w.flags(), IoFlags.NOWAIT)) {
            reply(reply, error(Errno.EOPNOTSUPP, "buffered writes cannot be NOWAIT"));
            return;
        }
        WriteOp op = new WriteOp(reply, w.offset(), w.data(), w.flags());
        op.start();
    }

    /**
     * A write: ext4_dio_write_iter for direct writes, ext4_buffered_write_iter (exclusive, and
     * since patch 2 draining direct I/O first) for buffered ones, which become a read-modify-write
     * of whole blocks.
     */
    private final class WriteOp extends Pending {
        long offset;
        byte[] data;
        final int length;
        final long end;
        final boolean nowait;
        final boolean async;
        final boolean durable;
        final boolean buffered;
        LockDecision decision;
        long b0;
        long b1;
        long allocPos;
        long convertPos;
        boolean orphanSet;
        /** Between dioBegin and dioEnd: however the write ends, its I/O must stop counting as in flight. */
        boolean inDio;
        final long[] allocated = {0};
        final long[] converted = {0};

        WriteOp(CompletableFuture<Reply> reply, long offset, byte[] data, int flags) {
            super(reply);
            this.offset = offset;
            this.data = data;
            this.length = data.length;
            this.end = offset + data.length;
            this.nowait = IoFlags.has(flags, IoFlags.NOWAIT);
            this.async = IoFlags.has(flags, IoFlags.ASYNC);
            this.durable = IoFlags.has(flags, IoFlags.DURABLE);
            this.buffered = IoFlags.has(flags, IoFlags.BUFFERED);
        }

        LockDecision decide() {
            return DioWriteChecks.decide(offset, length, nowait, inode.size, inode.disksize, inode.nosec(), BLOCK_BITS,
                    inode::map, inode.policy);
        }

        void start() {
            if (buffered) {
                counters.inc(NodeCounters.BUFFERED_WRITES);
                acquire(LockMode.EXCLUSIVE, false);
                return;
            }
            decision = decide();
            if (decision.eagain()) {
                fail(error(Errno.EAGAIN, "NOWAIT write needs the exclusive lock (" + decision.rule() + ")"));
                return;
            }
            acquire(decision.mode(), nowait);
        }

        @Override
        void granted() {
            if (buffered) {
                inodeDioWait(this, this::readModify);
                return;
            }
            // ext4_dio_write_checks runs again under the lock: the file may have changed while we waited
            LockDecision d = decide();
            if (d.exclusive() && held == LockMode.SHARED) {
                if (nowait) {
                    fail(error(Errno.EAGAIN, "NOWAIT write needs the exclusive lock (" + d.rule() + ")"));
                    return;
                }
                if (rwsem.tryUpgrade()) {
                    held = LockMode.EXCLUSIVE;
                } else {
                    counters.inc(NodeCounters.LOCK_UPGRADES);
                    releaseLock();
                    acquire(LockMode.EXCLUSIVE, false);
                    return;
                }
            }
            decision = d;
            if (d.inodeDioWait()) {
                inodeDioWait(this, this::mapAndAllocate);
            } else {
                mapAndAllocate();
            }
        }

        /** Buffered write: read the partial end blocks that hold data, merge, and write whole blocks. */
        void readModify() {
            long rb0 = offset / B;
            long rb1 = (end + B - 1) / B;
            byte[] merged = new byte[(int) ((rb1 - rb0) * B)];
            List<DataPath.ReadSeg> reads = new ArrayList<>();
            if (offset % B != 0) {
                reads.addAll(IoPlan.read(inode::map, rb0 * B, merged, B, B, sectorSize));
            }
            if (end % B != 0 && (rb1 - 1 > rb0 || offset % B == 0)) {
                reads.addAll(IoPlan.read(inode::map, (rb1 - 1) * B, merged, B, B, sectorSize).stream()
                        .map(s -> new DataPath.ReadSeg(s.deviceOffset(), s.length(), merged,
                                s.dstOffset() + (int) ((rb1 - 1 - rb0) * B), s.skip(), s.copyLength()))
                        .toList());
            }
            Runnable merge = () -> {
                System.arraycopy(data, 0, merged, (int) (offset - rb0 * B), length);
                offset = rb0 * B;
                data = merged;
                decision = LockDecision.buffered(DioWriteChecks.extendingIo(end - length, length, inode.size, inode.disksize));
                mapAndAllocate();
            };
            if (reads.isEmpty()) {
                merge.run();
            } else {
                await(ctx.data().read(reads), merge, this::fail);
            }
        }

        /** ext4_iomap_begin: NOWAIT refusals first (nothing changed yet), then allocation as unwritten. */
        void mapAndAllocate() {
            b0 = offset / B;
            b1 = (offset + data.length + B - 1) / B;
            long holes = inode.holeBlocks(b0, b1);
            if (nowait && holes > 0) {
                fail(error(Errno.EAGAIN, "NOWAIT write would allocate " + holes + " blocks"));
                return;
            }
            ensureSpace(this, holes + inode.reserveGrowth(holes), "write", false, () -> {
                allocPos = holes == 0 ? b1 : b0;
                metaStep();
            });
        }

        boolean extending() {
            return decision.extending();
        }

        void metaStep() {
            boolean timestamps = vol.nowNanos() - inode.mtimeNanos >= TIMESTAMP_GRANULARITY_NANOS;
            if (allocPos >= b1 && (!extending() || orphanSet) && inode.nosec() && !timestamps) {
                submit();
                return;
            }
            int n = inode.extentsPerStep();
            inHandle(inode.stepCredits(n), nowait, h -> {
                long now = vol.nowNanos();
                if (!inode.nosec()) {
                    inode.mode &= ~(InodeRecord.S_ISUID | InodeRecord.S_ISGID);
                }
                if (extending() && !orphanSet) {
                    inode.flags |= InodeRecord.FLAG_ORPHAN;
                    orphanSet = true;
                }
                inode.mtimeNanos = now;
                inode.ctimeNanos = now;
                if (allocPos < b1) {
                    StepResult step = inode.allocateUnwritten(h, allocPos, b1, n);
                    allocPos = step.next();
                    allocated[0] += step.blocks();
                }
            }, this::metaStep);
        }

        void submit() {
            IoPlan.Write plan = IoPlan.write(inode::map, offset, data, data.length, B);
            counters.add(NodeCounters.ZEROED_BLOCKS, plan.zeroedBlocks());
            counters.add(ALLOCATED_BLOCKS, allocated[0]);
            counters.inc(NodeCounters.WRITES);
            counters.add(NodeCounters.BYTES_WRITTEN, length);
            counters.inc(held == LockMode.EXCLUSIVE ? NodeCounters.WRITE_EXCLUSIVE : NodeCounters.WRITE_SHARED);
            dioBegin();
            inDio = true;
            CompletableFuture<Void> io = submitted(() -> ctx.data().write(plan.segs()));
            if (async && !decision.forceWait()) {
                releaseLock();
            }
            convertPos = b0;
            await(io, this::convertStep, this::fail);
        }

        /** ext4_dio_write_end_io: unwritten to written, then i_size/i_disksize for an extending write. */
        void convertStep() {
            boolean convert = convertPos < b1 && inode.anyUnwritten(convertPos, b1);
            if (!convert && !(extending() && orphanSet)) {
                completed();
                return;
            }
            int n = inode.extentsPerStep();
            inHandle(inode.stepCredits(n), false, h -> {
                if (convert) {
                    StepResult step = inode.convertWritten(convertPos, b1, n);
                    convertPos = step.next();
                    converted[0] += step.blocks();
                } else {
                    convertPos = b1;
                }
                if (convertPos >= b1 && extending()) {
                    inode.size = Math.max(inode.size, end);
                    inode.disksize = Math.max(inode.disksize, end);
                    inode.flags &= ~InodeRecord.FLAG_ORPHAN;
                    orphanSet = false;
                }
            }, this::convertStep);
        }

        void completed() {
            counters.add(CONVERTED_BLOCKS, converted[0]);
            endDio();
            if (durable) {
                counters.inc(NodeCounters.DURABLE_COMMITS);
                await(vol.journal().commit(), () -> succeed(new Reply.Written(length)), this::fail);
            } else {
                succeed(new Reply.Written(length));
            }
        }

        void endDio() {
            if (inDio) {
                inDio = false;
                dioEnd();
            }
        }

        /**
         * A failed write (its data did not reach the device, or a conversion after it failed)
         * stops counting as direct I/O in flight, or every later inode_dio_wait (truncate, unlink)
         * would wait for it forever. A failed extending write first gives back the blocks it
         * allocated past i_size and leaves the orphan list (ext4_truncate_failed_write); a failure
         * of that cleanup leaves it to mount.
         */
        @Override
        void fail(Throwable e) {
            Reply.Error err = failure(e);
            if (!orphanSet || inode == null) {
                endDio();
                fail(err);
                return;
            }
            orphanSet = false;
            long keep = (inode.size + B - 1) / B;
            removeBlocks(this, keep, ExtentFormat.MAX_LBLK + 1, () -> inHandle(inode.stepCredits(0), false,
                    h -> inode.flags &= ~InodeRecord.FLAG_ORPHAN, () -> {
                        endDio();
                        fail(err);
                    }));
        }
    }

    // ====================================================================== read

    private void startRead(Request.Read r, CompletableFuture<Reply> reply) {
        boolean buffered = IoFlags.has(r.flags(), IoFlags.BUFFERED);
        if (badRange(reply, r.offset(), r.length(), !buffered)) {
            return;
        }
        if (r.length() > dionode.protocol.wire.Wire.MAX_IO_BYTES) {
            reply(reply, error(Errno.EINVAL, "read of " + r.length() + " bytes exceeds the maximum of "
                    + dionode.protocol.wire.Wire.MAX_IO_BYTES));
            return;
        }
        ReadOp op = new ReadOp(reply, r.offset(), r.length());
        op.acquire(LockMode.SHARED, IoFlags.has(r.flags(), IoFlags.NOWAIT));
    }

    /** ext4_dio_read_iter: shared lock, zeros for holes and unwritten blocks, short at EOF. */
    private final class ReadOp extends Pending {
        final long offset;
        final int length;

        ReadOp(CompletableFuture<Reply> reply, long offset, int length) {
            super(reply);
            this.offset = offset;
            this.length = length;
        }

        @Override
        void granted() {
            int n = (int) Math.max(0, Math.min(length, inode.size - offset));
            byte[] dst = new byte[n];
            counters.inc(NodeCounters.READS);
            counters.add(NodeCounters.BYTES_READ, n);
            List<DataPath.ReadSeg> segs = n == 0 ? List.of() : IoPlan.read(inode::map, offset, dst, n, B, sectorSize);
            if (segs.isEmpty()) {
                succeed(new Reply.Data(dst));
                return;
            }
            dioBegin();
            await(submitted(() -> ctx.data().read(segs)), () -> {
                dioEnd();
                succeed(new Reply.Data(dst));
            }, e -> {
                dioEnd();
                fail(e);
            });
        }
    }

    // ====================================================================== exclusive paths

    /** A request that takes i_rwsem exclusive and drains direct I/O first (inode_lock + inode_dio_wait). */
    private final class ExclusiveOp extends Pending {
        final Consumer<ExclusiveOp> body;

        ExclusiveOp(CompletableFuture<Reply> reply, Consumer<ExclusiveOp> body) {
            super(reply);
            this.body = body;
        }

        @Override
        void granted() {
            inodeDioWait(this, () -> {
                try {
                    body.accept(this);
                } catch (RuntimeException e) {
                    fail(e);
                }
            });
        }
    }

    private void exclusive(CompletableFuture<Reply> reply, Consumer<ExclusiveOp> body) {
        new ExclusiveOp(reply, body).acquire(LockMode.EXCLUSIVE, false);
    }

    private void rangeOp(CompletableFuture<Reply> reply, long offset, long length, Consumer<ExclusiveOp> body) {
        if (length <= 0 || offset < 0) {
            reply(reply, error(Errno.EINVAL, "offset " + offset + " length " + length));
            return;
        }
        if (badRange(reply, offset, length, false)) {
            return;
        }
        exclusive(reply, body);
    }

    private void touch() {
        long now = vol.nowNanos();
        inode.mtimeNanos = now;
        inode.ctimeNanos = now;
    }

    /**
     * ENOSPC unless {@code needed} blocks are free and not reserved (data blocks plus the growth
     * of the file's node reservation); when blocks freed by uncommitted transactions
     * would make up the difference, commits them and looks once more (ext4_should_retry_alloc), so
     * that space given back by an unlink or punch is there for the next request.
     */
    private void ensureSpace(Pending op, long needed, String what, boolean retried, Runnable next) {
        BlockAllocator alloc = vol.allocator();
        if (needed <= alloc.availableBlocks()) {
            next.run();
        } else if (!retried && needed <= alloc.availableBlocks() + alloc.releasingBlocks()) {
            counters.inc(NodeCounters.ENOSPC_RETRIES);
            op.await(vol.journal().commit(), () -> ensureSpace(op, needed, what, true, next), op::fail);
        } else {
            op.fail(error(Errno.ENOSPC, what + " needs " + needed + " blocks, " + alloc.availableBlocks() + " free"));
        }
    }

    /** Removes the extents of {@code [from, to)} over as many handles as it takes (ext4_ext_remove_space). */
    private void removeBlocks(Pending op, long from, long to, Runnable next) {
        if (from >= to || inode.tree().extents(from, to, 1).isEmpty()) {
            next.run();
            return;
        }
        int n = inode.extentsPerStep();
        long[] pos = {from};
        op.inHandle(inode.stepCredits(n), false, h -> pos[0] = inode.removeBlocks(h, from, to, n),
                () -> removeBlocks(op, pos[0], to, next));
    }

    /** Allocates the holes of {@code [from, to)} as unwritten over as many handles as it takes. */
    private void allocateBlocks(Pending op, long from, long to, Runnable next) {
        if (from >= to || inode.holeBlocks(from, to) == 0) {
            next.run();
            return;
        }
        int n = inode.extentsPerStep();
        StepResult[] done = {null};
        op.inHandle(inode.stepCredits(n), false, h -> done[0] = inode.allocateUnwritten(h, from, to, n), () -> {
            counters.add(ALLOCATED_BLOCKS, done[0].blocks());
            allocateBlocks(op, done[0].next(), to, next);
        });
    }

    /**
     * Zeros bytes {@code [from, to)} inside written blocks by reading and rewriting those blocks
     * (ext4_block_zero_page_range); holes and unwritten blocks already read as zeros.
     */
    private void zeroPartial(Pending op, long from, long to, Runnable next) {
        if (from >= to) {
            next.run();
            return;
        }
        long blk = from / B;
        Mapping m = inode.map(blk, 1);
        if (!m.written()) {
            next.run();
            return;
        }
        byte[] block = new byte[B];
        CompletableFuture<Void> read = ctx.data().read(List.of(new DataPath.ReadSeg(m.pblk() * B, B, block, 0, 0, B)));
        op.await(read, () -> {
            java.util.Arrays.fill(block, (int) (from - blk * B), (int) (to - blk * B), (byte) 0);
            CompletableFuture<Void> write = ctx.data().write(List.of(new DataPath.WriteSeg(m.pblk() * B, B, block, 0, 0, B)));
            op.await(write, next, op::fail);
        }, op::fail);
    }

    /** Zeros the partial blocks at the ends of {@code [off, end)}; returns the whole blocks inside via next. */
    private void zeroEnds(Pending op, long off, long end, Runnable next) {
        long headEnd = Math.min(end, (off + B - 1) / B * B);
        long tailStart = Math.max(headEnd, end / B * B);
        zeroPartial(op, off, headEnd, () -> zeroPartial(op, tailStart, end, next));
    }

    private void truncate(ExclusiveOp op, long size) {
        if (size < 0) {
            op.fail(error(Errno.EINVAL, "negative size"));
            return;
        }
        if (size > Inode.MAX_BYTES) {
            op.fail(error(Errno.EFBIG, "size past the maximum file size"));
            return;
        }
        if (size >= inode.size) {
            op.inHandle(inode.stepCredits(0), false, h -> {
                inode.size = size;
                inode.disksize = size;
                touch();
            }, () -> op.succeed(new Reply.Done()));
            return;
        }
        long keepBlocks = (size + B - 1) / B;
        // ext4_truncate: zero the tail of the new last block, put the inode on the orphan list with
        // the new size, free the blocks, take it off the list
        zeroPartial(op, size, size % B == 0 ? size : keepBlocks * B, () -> op.inHandle(inode.stepCredits(0), false, h -> {
            inode.flags |= InodeRecord.FLAG_ORPHAN;
            inode.size = size;
            inode.disksize = Math.min(inode.disksize, size);
            touch();
        }, () -> removeBlocks(op, keepBlocks, ExtentFormat.MAX_LBLK + 1, () -> op.inHandle(inode.stepCredits(0), false,
                h -> inode.flags &= ~InodeRecord.FLAG_ORPHAN, () -> op.succeed(new Reply.Done())))));
    }

    private void punch(ExclusiveOp op, long off, long len) {
        long end = off + len;
        long first = (off + B - 1) / B;
        long last = end / B;
        zeroEnds(op, off, end, () -> removeBlocks(op, first, Math.max(first, last),
                () -> op.inHandle(inode.stepCredits(0), false, h -> touch(), () -> op.succeed(new Reply.Done()))));
    }

    private void fallocate(ExclusiveOp op, long off, long len, boolean keepSize) {
        long end = off + len;
        long b0 = off / B;
        long b1 = (end + B - 1) / B;
        long holes = inode.holeBlocks(b0, b1);
        long needed = holes + inode.reserveGrowth(holes);
        ensureSpace(op, needed, "fallocate", false, () -> allocateBlocks(op, b0, b1, () -> op.inHandle(inode.stepCredits(0),
                false, h -> {
                    if (!keepSize && end > inode.size) {
                        inode.size = end;
                        inode.disksize = end;
                    }
                    touch();
                }, () -> op.succeed(new Reply.Done()))));
    }

    /** FALLOC_FL_ZERO_RANGE: partial blocks zeroed in place, whole blocks allocated and made unwritten. */
    private void zeroRange(ExclusiveOp op, long off, long len) {
        long end = off + len;
        long first = (off + B - 1) / B;
        long last = end / B;
        long holes = first < last ? inode.holeBlocks(first, last) : 0;
        long needed = holes + inode.reserveGrowth(Math.max(0, last - first));
        ensureSpace(op, needed, "zero range", false, () -> zeroEnds(op, off, end, () -> toUnwritten(op, first, Math.max(first, last),
                () -> allocateBlocks(op, first, Math.max(first, last), () -> op.inHandle(inode.stepCredits(0), false, h -> {
                    if (end > inode.size) {
                        inode.size = end;
                        inode.disksize = end;
                    }
                    touch();
                }, () -> op.succeed(new Reply.Done()))))));
    }

    private void toUnwritten(Pending op, long from, long to, Runnable next) {
        if (from >= to) {
            next.run();
            return;
        }
        int n = inode.extentsPerStep();
        long[] pos = {from};
        op.inHandle(inode.stepCredits(n), false, h -> pos[0] = inode.convertState(from, to, true, n).next(),
                () -> toUnwritten(op, pos[0], to, next));
    }

    private void chmod(ExclusiveOp op, int mode) {
        op.inHandle(inode.stepCredits(0), false, h -> {
            inode.mode = mode & InodeRecord.MODE_MASK;
            inode.ctimeNanos = vol.nowNanos();
        }, () -> op.succeed(new Reply.Done()));
    }

    /** unlink of the last name: orphan + unlinked, free every block, then the inode slot. */
    private void delete(ExclusiveOp op) {
        op.inHandle(inode.stepCredits(0), false, h -> inode.flags |= InodeRecord.FLAG_ORPHAN | InodeRecord.FLAG_UNLINKED,
                () -> removeBlocks(op, 0, ExtentFormat.MAX_LBLK + 1, () -> clearSlot(op)));
    }

    private void clearSlot(ExclusiveOp op) {
        Handle h;
        try {
            h = inode.begin(1);
        } catch (RuntimeException e) {
            op.fail(e);
            return;
        }
        if (h == null) {
            parkForJournal(() -> clearSlot(op));
            return;
        }
        try {
            vol.inodes().clear(h, ino);
        } finally {
            h.close();
        }
        inode = null;
        deleted = true;
        unlinkedHere = true;
        op.succeed(new Reply.Done());
    }

    private void fsync(CompletableFuture<Reply> reply) {
        counters.inc(NodeCounters.DURABLE_COMMITS);
        Pending p = new Pending(reply) {
            @Override
            void granted() {
            }
        };
        p.await(vol.journal().commit(), () -> p.succeed(new Reply.Done()), p::fail);
    }

    // ====================================================================== stat, fiemap

    private Reply stat() {
        long[] acc = new long[3];
        inode.tree().forEach(0, ExtentFormat.MAX_LBLK + 1, e -> {
            acc[0]++;
            acc[e.unwritten() ? 2 : 1] += e.len();
        });
        return new Reply.FileStat(new FileId(ino, inode.generation), inode.name, inode.size, inode.disksize, inode.blocks, B, inode.mode, inode.policy,
                inode.mtimeNanos, inode.ctimeNanos, new Reply.Layout(acc[0], acc[1], acc[2]));
    }

    /** FS_IOC_FIEMAP: extents in bytes, contiguous same-state extents merged, at most a page of them per reply. */
    private Reply fiemap(Request.Fiemap f) {
        if (f.offset() < 0 || f.length() < 0) {
            return error(Errno.EINVAL, "negative offset or length");
        }
        long from = f.offset() / B;
        long to = f.length() == 0 ? ExtentFormat.MAX_LBLK + 1
                : Math.min(ExtentFormat.MAX_LBLK + 1, (f.offset() + f.length() + B - 1) / B);
        List<Extent> stored = inode.tree().extents(from, to, MAX_FIEMAP_EXTENTS * 2);
        List<Reply.FiemapExtent> out = new ArrayList<>();
        Extent cur = null;
        long curLen = 0;
        int i = 0;
        for (; i < stored.size() && out.size() < MAX_FIEMAP_EXTENTS; i++) {
            Extent e = stored.get(i);
            if (cur != null && cur.lblk() + curLen == e.lblk() && cur.pblk() + curLen == e.pblk()
                    && cur.unwritten() == e.unwritten()) {
                curLen += e.len();
                continue;
            }
            if (cur != null) {
                out.add(fiemapExtent(cur, curLen, false));
            }
            cur = e;
            curLen = e.len();
        }
        if (cur != null && out.size() < MAX_FIEMAP_EXTENTS) {
            boolean last = i == stored.size() && inode.tree().extents(cur.lblk() + curLen, ExtentFormat.MAX_LBLK + 1, 1).isEmpty();
            out.add(fiemapExtent(cur, curLen, last));
        }
        return new Reply.FiemapReply(out);
    }

    private static Reply.FiemapExtent fiemapExtent(Extent e, long len, boolean last) {
        int flags = (e.unwritten() ? Reply.FiemapExtent.UNWRITTEN : 0) | (last ? Reply.FiemapExtent.LAST : 0);
        return new Reply.FiemapExtent(e.lblk() * B, e.pblk() * B, len * B, flags);
    }
}
