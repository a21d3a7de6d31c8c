package dionode.node.journal;

import static dionode.node.journal.JournalFormat.BLOCK_SIZE;

import dionode.node.device.BlockDevice;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A jbd2-style physical-block metadata journal over a fixed area of a {@link BlockDevice},
 * generic over 4096-byte metadata blocks.
 *
 * <p>The caller (a metadata cache) owns live {@code byte[4096]} images. A change is made
 * inside a {@link Handle} ({@link #tryStart}), which registers every block it modifies in the
 * <em>running transaction</em>. Handles are admitted as jbd2's start_this_handle admits them,
 * without a lock: credits are reserved and the handle counted (t_updates) in one atomic word
 * ({@link TxnState}), so handles of many threads run at once. Commit locks the running
 * transaction (T_LOCKED: starts return null until the switch), waits on its own thread until
 * the handles open in it have closed, seals and copies the images (so a snapshot sits on handle
 * boundaries), switches to a new running transaction, then writes descriptors + images + commit
 * block to the log in one pwrite after a pre-flush (ordered data first) and flushes (fdatasync)
 * again.
 * Checkpoint writes every committed image home, flushes, then empties the log by rewriting the
 * journal superblock. The on-disk format is drawn in {@link JournalFormat}; the classes this
 * one hands its parts to are listed in the package documentation.
 *
 * <p>All I/O runs on the single journal thread {@code dionode-journal}; callbacks
 * ({@link Handle#afterCommit}, {@link Handle#afterCheckpoint}, {@link #onSpace}) and
 * actions attached without an executor to the futures returned by {@link #commit()} and
 * {@link #checkpoint()} run there too, so they must be short and must not wait for the
 * journal. After the first device error the journal fails sticky: that commit and every
 * later commit, checkpoint and {@code tryStart} fail with {@link JournalAbortedException}.
 *
 * <p>Thread-safe.
 */
public final class Journal implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

    /** Smallest journal area accepted: superblock + a log of 7 blocks. */
    public static final int MIN_BLOCKS = 8;

    private final JournalIO io;
    private final long idlePollMillis;
    private final TxnLimits limits;
    private final JournalCounters counters = new JournalCounters();

    /**
     * Guards the requests of commit(), checkpoint() and onSpace() callers and the flags below;
     * never held by a handle, never across I/O or a wait (the journal thread parks without it).
     */
    private final ReentrantLock lock = new ReentrantLock();
    private final JournalRequests requests;
    /** Written under {@code lock}, read without it. */
    private volatile boolean stopping;
    private volatile boolean halted;
    /** The first device error: set once, under the lock; read without it to fail fast. */
    private volatile Throwable abortCause;

    /** Lock-free: started and ended on the handles' threads, switched by the journal thread. */
    private final RunningTxn running;
    /** Handles open on each thread: close() there would wait for them forever. */
    private final ThreadLocal<int[]> openHere = ThreadLocal.withInitial(() -> new int[1]);

    // ---- journal thread only ----
    private final Checkpointer checkpointer;
    private final LogWriter logWriter;

    private final Thread thread;

    private Journal(JournalIO io, long sequence, JournalOptions options, Clock clock) {
        this.io = io;
        this.idlePollMillis = options.idlePoll().toMillis();
        this.limits = TxnLimits.of(options, io.length);
        this.requests = new JournalRequests(options.maxSpaceWaiters());
        this.checkpointer = new Checkpointer(io, counters, options.hook());
        this.logWriter = new LogWriter(io, checkpointer, counters, options.hook(), clock, limits.maxTxnBlocks(),
                sequence);
        this.running = new RunningTxn(sequence, limits, clock);
        this.thread = new Thread(this::run, "dionode-journal");
        this.thread.setDaemon(true);
    }

    // =====================================================================================
    // format / recover / open

    /**
     * Writes an empty journal into device blocks {@code [startBlock, startBlock + blocks)}:
     * zeroes the log, writes the journal superblock (sequence 1) and flushes.
     */
    public static void format(BlockDevice dev, long startBlock, long blocks) throws IOException {
        JournalIO io = new JournalIO(dev, startBlock, blocks);
        io.zeroLog();
        io.flush();
        io.writeSuper(1);
        io.flush();
    }

    /**
     * Mount-time recovery: replays every fully committed transaction (consecutive tids from
     * the superblock's sequence, every descriptor, image and commit checksum right) to its
     * home blocks, ignores the torn or corrupt tail, flushes, then resets the log (superblock
     * sequence = one past the last tid that could have been written, so no block of this
     * pass can ever be replayed again). Idempotent.
     *
     * @throws JournalCorruptException if the journal superblock is bad, or a checksummed
     *                                 transaction points into the journal or off the device
     */
    public static ReplayResult recover(BlockDevice dev, long startBlock, long blocks) throws IOException {
        return recover(dev, startBlock, blocks, HomeRegions.wholeDevice(dev.size() / BLOCK_SIZE));
    }

    /**
     * {@link #recover(BlockDevice, long, long)} for a journal whose homes must lie in the
     * loggable regions of {@code allowed} (jbd2 trusts its tags; here a checksummed tag naming the superblock
     * or the journal ring is a corrupt journal). The whole log is checked before anything is
     * written: a refused log leaves the device as it was.
     *
     * @throws JournalCorruptException naming the transaction, the home block and its region
     */
    public static ReplayResult recover(BlockDevice dev, long startBlock, long blocks, HomeRegions allowed)
            throws IOException {
        return JournalRecovery.replay(dev, startBlock, blocks, allowed);
    }

    /**
     * Opens a recovered journal and starts its thread.
     *
     * @throws IOException if the superblock is bad, or log block 1 still holds a transaction
     *                     with the superblock's sequence ({@link #recover} was not run)
     */
    public static Journal open(BlockDevice dev, long startBlock, long blocks, JournalOptions options, Clock clock)
            throws IOException {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(clock, "clock");
        JournalRecovery.RecoveredJournal recovered = JournalRecovery.checkRecovered(dev, startBlock, blocks);
        Journal journal = new Journal(recovered.io(), recovered.sequence(), options, clock);
        journal.thread.start();
        return journal;
    }

    /**
     * Reads back what {@link #recover} left: a valid journal superblock and no transaction of
     * its sequence at the head of the log. What fsck checks after a replay, without opening.
     *
     * @throws IOException as {@link #open}
     */
    public static void checkRecovered(BlockDevice dev, long startBlock, long blocks) throws IOException {
        JournalRecovery.checkRecovered(dev, startBlock, blocks);
    }

    // =====================================================================================
    // handles

    /**
     * Starts a handle that may modify up to {@code credits} distinct blocks, reserving them in the
     * running transaction (start_this_handle). Never waits: handles of other threads stay open
     * meanwhile, and a commit never holds a start up.
     *
     * @return the handle, or {@code null} if the running transaction has no room for
     *         {@code credits} more blocks, or is locked for commit (register with {@link #onSpace}
     *         and retry)
     * @throws JournalAbortedException  if the journal failed
     * @throws IllegalStateException    if the journal is closed
     * @throws IllegalArgumentException if {@code credits} is negative or more than a
     *                                  transaction can ever hold ({@link #maxTxnBlocks()})
     */
    public Handle tryStart(int credits) {
        int maxTxn = limits.maxTxnBlocks();
        if (credits < 0 || credits > maxTxn) {
            throw new IllegalArgumentException("credits " + credits + " outside 0.." + maxTxn);
        }
        RuntimeException refused = refusal();
        if (refused != null) {
            throw refused;
        }
        RunningTxn.Admission admission = running.start(credits);
        if (admission.txn() == null) {
            counters.handleRefused(admission.locked());
            if (!admission.locked()) {
                LockSupport.unpark(thread);
            }
            return null;
        }
        counters.handleStarted();
        openHere.get()[0]++;
        return new Handle(this, running, admission.txn(), credits, Thread.currentThread());
    }

    /** Called by {@link Handle#close()}: returns unused credits and wakes the journal thread if it should look. */
    void endHandle(Txn txn, int unusedCredits) {
        openHere.get()[0]--;
        if (running.release(txn, unusedCredits)) {
            LockSupport.unpark(thread);
        }
    }

    /** Called by a handle: may {@code home} be logged at all. */
    void checkHome(long home) {
        io.checkHome(home);
    }

    /**
     * Runs {@code callback} once, on the journal thread, when {@link #tryStart} may succeed
     * again (the running transaction was switched, or holds nothing, or the journal failed: then
     * tryStart throws).
     *
     * @throws IllegalStateException if {@link JournalOptions#maxSpaceWaiters()} callbacks are
     *                               already pending, or the journal is closed
     */
    public void onSpace(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        lock.lock();
        try {
            if (stopping) {
                throw new IllegalStateException("journal closed");
            }
            requests.addSpaceWaiter(callback);
        } finally {
            lock.unlock();
        }
        LockSupport.unpark(thread);
    }

    // =====================================================================================
    // commit / checkpoint / close

    /**
     * Commits the running transaction. The future completes with its tid once its blocks and
     * commit record are on the device and the device is flushed; if the running transaction
     * is empty, once the device is flushed (with the last durable tid, -1 if none). Calls
     * that arrive while a commit is being written are served together by the next one
     * (group commit). Fails with {@link JournalAbortedException} if the journal fails.
     */
    public CompletableFuture<Long> commit() {
        Throwable cause = abortCause;
        if (cause != null) {
            return CompletableFuture.failedFuture(JournalAbortedException.after(cause));
        }
        lock.lock();
        try {
            RuntimeException refused = refusal();
            if (refused != null) {
                return CompletableFuture.failedFuture(refused);
            }
            counters.commitCalled();
            return requests.joinCommit();
        } finally {
            lock.unlock();
            LockSupport.unpark(thread);
        }
    }

    /**
     * Commits the running transaction, then writes every committed image home, flushes and
     * empties the log; afterCheckpoint callbacks run before the future completes.
     */
    public CompletableFuture<Void> checkpoint() {
        lock.lock();
        try {
            RuntimeException refused = refusal();
            if (refused != null) {
                return CompletableFuture.failedFuture(refused);
            }
            return requests.joinCheckpoint();
        } finally {
            lock.unlock();
            LockSupport.unpark(thread);
        }
    }

    /**
     * Commits the running transaction, checkpoints, and stops the journal thread (waits for
     * it unless called on it). Idempotent. Does not close the device. After an abort it only
     * stops the thread.
     */
    @Override
    public void close() {
        if (openHere.get()[0] > 0) {
            throw new IllegalStateException("close() while holding a handle would deadlock: the last commit waits for it");
        }
        stop(false);
    }

    /** Test support: stops the thread without committing or checkpointing (a crash). */
    void halt() {
        stop(true);
    }

    private void stop(boolean crash) {
        lock.lock();
        try {
            if (crash) {
                halted = true;
            }
            stopping = true;
        } finally {
            lock.unlock();
        }
        LockSupport.unpark(thread);
        joinThread();
    }

    private void joinThread() {
        if (Thread.currentThread() == thread) {
            return;
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Test support: wakes the journal thread to look at the clock now. */
    void wakeUp() {
        LockSupport.unpark(thread);
    }

    /** Most distinct blocks in one transaction (the bound of {@link #tryStart}). */
    public int maxTxnBlocks() {
        return limits.maxTxnBlocks();
    }

    /** Block count at which the running transaction commits without being asked. */
    public int commitThreshold() {
        return limits.commitThreshold();
    }

    /** Whether the journal failed sticky. */
    public boolean isAborted() {
        return abortCause != null;
    }

    /** The first device error, or null. */
    public Throwable abortCause() {
        return abortCause;
    }

    public JournalStats stats() {
        return counters.snapshot(abortCause != null);
    }

    /** {@code observer} is told each logged transaction's commit time in nanoseconds, on the journal thread: it must not block. */
    public void observeCommits(LongConsumer observer) {
        counters.observeCommits(observer);
    }

    /** What a new request gets from a journal that takes none (aborted, or closed); null while it works. */
    private RuntimeException refusal() {
        if (abortCause != null) {
            return JournalAbortedException.after(abortCause);
        }
        return stopping ? new IllegalStateException("journal closed") : null;
    }

    // =====================================================================================
    // the journal thread

    /** What the journal thread does next. */
    private enum Next { EXIT, IDLE, SPACE, COMMIT, CLOSE }

    private void run() {
        for (;;) {
            Next next = next();
            switch (next) {
                case EXIT -> {
                    return;
                }
                case IDLE -> idle();
                case SPACE -> execute(takeSpaceWaiters());
                case COMMIT, CLOSE -> {
                    CommitCycle cycle = switchRunning(next == Next.CLOSE);
                    if (cycle != null) {
                        execute(cycle);
                        if (cycle.exit()) {
                            return;
                        }
                    }
                }
            }
        }
    }

    /** Decides, under the lock, without waiting. */
    private Next next() {
        lock.lock();
        try {
            if (halted) {
                return Next.EXIT;
            }
            if (abortCause != null) {
                requests.failAll(abortCause);
                if (requests.spaceAsked()) {
                    return Next.SPACE;
                }
                return stopping ? Next.EXIT : Next.IDLE;
            }
            if (stopping) {
                return Next.CLOSE;
            }
            if (requests.commitAsked() || requests.checkpointAsked() || running.commitDue(requests.spaceAsked())) {
                return Next.COMMIT;
            }
            // Handles wait for room and the running transaction holds nothing: all the room there is.
            return requests.spaceAsked() ? Next.SPACE : Next.IDLE;
        } finally {
            lock.unlock();
        }
    }

    /** Parks until woken (every request and every handle that should be looked at unparks) or the clock is due. */
    private void idle() {
        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(running.waitMillis(idlePollMillis)));
        interruptAborts();
    }

    /**
     * The commit's switch (jbd2_journal_commit_transaction up to the new running transaction):
     * locks the running transaction, waits for its open handles, snapshots it and switches, then
     * takes every request that arrived until then, the onSpace ones among them. Null if the thread
     * stops or the journal failed meanwhile.
     */
    private CommitCycle switchRunning(boolean closing) {
        Txn locked = running.lockForCommit(closing);
        Txn committing = null;
        if (locked != null) {
            if (!running.awaitUpdates(locked, () -> halted || interruptAborts())) {
                return null;
            }
            try {
                committing = running.switchLocked(locked, closing);
            } catch (RuntimeException e) {
                abort(e);
                return null;
            }
        }
        lock.lock();
        try {
            return requests.take(committing, requests.checkpointAsked() || closing, closing);
        } finally {
            lock.unlock();
        }
    }

    private CommitCycle takeSpaceWaiters() {
        lock.lock();
        try {
            return requests.takeSpaceWaiters();
        } finally {
            lock.unlock();
        }
    }

    /** Nobody may silently strand the waiters: an interrupted journal is a failed one. Returns whether it was. */
    private boolean interruptAborts() {
        if (!Thread.interrupted()) {
            return false;
        }
        abort(new InterruptedIOException("journal thread interrupted"));
        return true;
    }

    /** Fails the journal sticky (jbd2_journal_abort): the first cause stays, every waiter fails. */
    private void abort(Throwable cause) {
        boolean first;
        lock.lock();
        try {
            first = abortCause == null;
            if (first) {
                abortCause = cause;
            }
            requests.failAll(abortCause);
        } finally {
            lock.unlock();
        }
        if (first) {
            LOG.error("journal aborted: every later commit fails (read-only)", cause);
        }
    }

    private void execute(CommitCycle cycle) {
        JournalCallbacks.runAll(cycle.space(), "onSpace");
        try {
            cycle.commit(logWriter, checkpointer, counters);
            if (cycle.checkpointAfter() && !halted) {
                cycle.checkpoint(logWriter);
            }
        } catch (IOException | RuntimeException e) {
            abort(e);
            cycle.fail(JournalAbortedException.after(abortCause));
        }
    }
}
