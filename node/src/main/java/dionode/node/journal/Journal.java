package dionode.node.journal;

import static dionode.node.journal.JournalFormat.BLOCK_SIZE;

import dionode.node.device.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A jbd2-style physical-block metadata journal over a fixed area of a {@link BlockDevice},
 * generic over 4096-byte metadata blocks.
 *
 * <p>The caller (a metadata cache) owns live {@code byte[4096]} images. A change is made
 * inside a {@link Handle} ({@link #tryStart}), which holds the single metadata lock and
 * registers every block it modifies in the <em>running transaction</em>. Commit seals and
 * copies those images under the same lock (so a snapshot sits on handle boundaries),
 * switches to a new running transaction, then writes descriptors + images + commit block to
 * the log in one pwrite after a pre-flush (ordered data first) and flushes (fdatasync) again. Checkpoint writes every committed
 * image home, flushes, then empties the log by rewriting the journal superblock. The on-disk
 * format is drawn in {@link JournalFormat}.
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

    /** Size of a journal block and of every journaled metadata block. */
    public static final int BLOCK_SIZE_BYTES = BLOCK_SIZE;
    /** Smallest journal area accepted: superblock + a log of 7 blocks. */
    public static final int MIN_BLOCKS = 8;
    /** Largest automatic transaction size, in blocks. */
    static final int AUTO_MAX_TXN_CAP = 1024;

    private final JournalIO io;
    private final JournalOptions options;
    private final Clock clock;
    private final int maxTxn;
    private final int threshold;
    private final long intervalMillis;

    /** The metadata lock: held by every handle and by the commit snapshot. */
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();

    // ---- guarded by lock ----
    private Txn running;
    private int reservedCredits;
    private CompletableFuture<Long> pendingCommit;
    private int pendingCallers;
    private CompletableFuture<Void> pendingCheckpoint;
    private final ArrayDeque<Runnable> spaceWaiters = new ArrayDeque<>();
    private boolean stopping;
    private boolean halted;
    private volatile Throwable abortCause;

    // ---- journal thread only ----
    /** Next free log block (1 .. length). */
    private long head = 1;
    /** Tid of the next transaction to be written to the log. */
    private long nextLogTid;
    /** Latest committed snapshot of every block not yet checkpointed home. */
    private final TreeMap<Long, byte[]> dirty = new TreeMap<>();
    private final List<Runnable> checkpointCallbacks = new ArrayList<>();
    private ByteBuffer writeBuf;

    private final Thread thread;

    // ---- statistics ----
    private volatile long durableTid = -1;
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong emptyCommits = new AtomicLong();
    private final AtomicLong blocksLogged = new AtomicLong();
    private final AtomicLong logBlocksWritten = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong checkpoints = new AtomicLong();
    private final AtomicLong blocksCheckpointed = new AtomicLong();
    private final AtomicLong handles = new AtomicLong();
    private final AtomicLong handlesRefused = new AtomicLong();
    private final AtomicLong maxTxnSeen = new AtomicLong();
    private final AtomicLong commitCalls = new AtomicLong();
    private final AtomicLong commitBatches = new AtomicLong();
    private final AtomicLong batchedCalls = new AtomicLong();
    private final AtomicLong maxBatch = new AtomicLong();

    private Journal(JournalIO io, long sequence, JournalOptions options, Clock clock) {
        this.io = io;
        this.options = options;
        this.clock = clock;
        int logBlocks = (int) Math.min(Integer.MAX_VALUE, io.length - 1);
        int fit = largestFitting(logBlocks);
        int auto = Math.max(1, Math.min(AUTO_MAX_TXN_CAP, largestFitting(logBlocks / 4)));
        this.maxTxn = Math.min(fit, options.maxTxnBlocks() == 0 ? auto : options.maxTxnBlocks());
        int th = options.commitThreshold() == 0 ? Math.max(1, maxTxn * 3 / 4) : options.commitThreshold();
        this.threshold = Math.min(th, maxTxn);
        this.intervalMillis = Math.max(1, options.commitInterval().toMillis());
        this.nextLogTid = sequence;
        this.running = new Txn(sequence);
        this.thread = new Thread(this::run, "dionode-journal");
        this.thread.setDaemon(true);
    }

    /** Most images whose transaction (descriptors + images + commit) fits in {@code logBlocks}. */
    private static int largestFitting(int logBlocks) {
        int n = Math.max(0, logBlocks - 2);
        while (n > 0 && JournalFormat.logBlocksFor(n) > logBlocks) {
            n--;
        }
        return n;
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
        Objects.requireNonNull(allowed, "allowed");
        JournalIO io = new JournalIO(dev, startBlock, blocks);
        JournalFormat.Super sb = io.readSuper();
        JournalIO.LogReader reader = io.new LogReader();
        TreeMap<Long, byte[]> latest = new TreeMap<>();
        long expected = sb.sequence();
        long pos = 1;
        int txns = 0;
        long images = 0;
        long firstTid = -1;
        long lastTid = -1;
        String[] why = new String[1];
        String end;
        scan:
        for (;;) {
            long txnStart = pos;
            // Descriptors.
            List<JournalFormat.Descriptor> descs = new ArrayList<>();
            int n = 0;
            for (;;) {
                if (pos >= blocks) {
                    end = descs.isEmpty() ? "end of the journal area" : "descriptors run off the journal area";
                    pos = txnStart;
                    break scan;
                }
                JournalFormat.Descriptor d = JournalFormat.decodeDescriptor(reader.block(pos), expected,
                        descs.size(), why);
                if (d == null) {
                    end = (descs.isEmpty() ? "" : "torn transaction " + expected + ": ") + why[0]
                            + " at log block " + pos;
                    pos = txnStart;
                    break scan;
                }
                descs.add(d);
                n += d.homes().length;
                pos++;
                if (d.last()) {
                    break;
                }
            }
            if (pos + n + 1 > blocks) {
                end = "transaction " + expected + " of " + n + " images runs off the journal area";
                pos = txnStart;
                break;
            }
            // Images, checked against their tags.
            long[] homes = new long[n];
            int[] crcs = new int[n];
            int k = 0;
            for (JournalFormat.Descriptor d : descs) {
                System.arraycopy(d.homes(), 0, homes, k, d.homes().length);
                System.arraycopy(d.crcs(), 0, crcs, k, d.crcs().length);
                k += d.homes().length;
            }
            byte[][] imgs = new byte[n][];
            for (int i = 0; i < n; i++) {
                ByteBuffer b = reader.block(pos + i);
                if (JournalFormat.imageCrc(b, 0) != crcs[i]) {
                    end = "torn transaction " + expected + ": image " + i + " (home " + homes[i]
                            + ") CRC mismatch at log block " + (pos + i);
                    pos = txnStart;
                    break scan;
                }
                imgs[i] = b.array();
            }
            Long time = JournalFormat.checkCommit(reader.block(pos + n), expected, n, descs.size(),
                    JournalFormat.dataCrc(crcs, n), why);
            if (time == null) {
                end = "torn transaction " + expected + ": " + why[0] + " at log block " + (pos + n);
                pos = txnStart;
                break;
            }
            // A fully checksummed transaction: its homes must be sane, or the journal lies.
            for (long h : homes) {
                String refusal = h < 0 || h >= io.deviceBlocks ? "outside the device of " + io.deviceBlocks + " blocks"
                        : io.inJournal(h) ? "inside the journal area" : allowed.refusal(h);
                if (refusal != null) {
                    throw new JournalCorruptException("journal transaction " + expected + " at log block "
                            + txnStart + " is checksummed but names home block " + h + ", which is " + refusal
                            + "; the journal may log only " + allowed.loggable());
                }
            }
            for (int i = 0; i < n; i++) {
                latest.put(homes[i], imgs[i]);
            }
            images += n;
            txns++;
            if (firstTid < 0) {
                firstTid = expected;
            }
            lastTid = expected;
            expected++;
            pos += n + 1;
        }
        int written = io.writeHome(latest);
        io.flush();
        // Skip the tid that may have been partly written: nothing in the log can carry it again.
        long next = expected + 1;
        io.writeSuper(next);
        io.flush();
        ReplayResult r = new ReplayResult(txns, images, written, firstTid, lastTid, next, pos, end);
        if (txns > 0) {
            LOG.info("journal replayed {} transactions ({} images, {} home blocks), tids {}..{}; log ended at block "
                    + "{}: {}", txns, images, written, firstTid, lastTid, pos, end);
        }
        return r;
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
        JournalIO io = new JournalIO(dev, startBlock, blocks);
        Journal j = new Journal(io, checkRecovered(io).sequence(), options, clock);
        j.thread.start();
        return j;
    }

    /**
     * Reads back what {@link #recover} left: a valid journal superblock and no transaction of
     * its sequence at the head of the log. What fsck checks after a replay, without opening.
     *
     * @throws IOException as {@link #open}
     */
    public static void checkRecovered(BlockDevice dev, long startBlock, long blocks) throws IOException {
        checkRecovered(new JournalIO(dev, startBlock, blocks));
    }

    private static JournalFormat.Super checkRecovered(JournalIO io) throws IOException {
        JournalFormat.Super sb = io.readSuper();
        String[] why = new String[1];
        if (JournalFormat.decodeDescriptor(io.new LogReader().block(1), sb.sequence(), 0, why) != null) {
            throw new IOException("journal at device block " + io.start + " holds transaction " + sb.sequence()
                    + " in its log: run Journal.recover before open");
        }
        return sb;
    }

    // =====================================================================================
    // handles

    /**
     * Starts a handle that may modify up to {@code credits} distinct blocks, taking the
     * metadata lock (waits only while another handle or a commit snapshot holds it).
     *
     * @return the handle, or {@code null} if the running transaction has no room for
     *         {@code credits} more blocks (register with {@link #onSpace} and retry)
     * @throws JournalAbortedException  if the journal failed
     * @throws IllegalStateException    if the journal is closed
     * @throws IllegalArgumentException if {@code credits} is negative or more than a
     *                                  transaction can ever hold ({@link #maxTxnBlocks()})
     */
    public Handle tryStart(int credits) {
        if (credits < 0 || credits > maxTxn) {
            throw new IllegalArgumentException("credits " + credits + " outside 0.." + maxTxn);
        }
        checkNotAborted();
        lock.lock();
        boolean ok = false;
        try {
            checkNotAborted();
            if (stopping) {
                throw new IllegalStateException("journal closed");
            }
            if ((long) running.size() + reservedCredits + credits > maxTxn) {
                handlesRefused.incrementAndGet();
                if (!running.blocks.isEmpty()) {
                    work.signal();
                }
                return null;
            }
            reservedCredits += credits;
            handles.incrementAndGet();
            ok = true;
            return new Handle(this, running, credits, Thread.currentThread());
        } finally {
            if (!ok) {
                lock.unlock();
            }
        }
    }

    /** Called by a handle (lock held) for a block new to the transaction. */
    void addBlock(Txn txn, long home, Txn.Entry entry) {
        txn.blocks.put(home, entry);
        reservedCredits--;
        touch(txn);
    }

    /** Called by a handle (lock held) when it adds a block or a callback. */
    void touch(Txn txn) {
        if (txn.firstChangeMillis < 0) {
            txn.firstChangeMillis = clock.millis();
        }
    }

    /** Called by {@link Handle#close()}: returns unused credits and releases the lock. */
    void endHandle(Txn txn, int unusedCredits) {
        try {
            reservedCredits -= unusedCredits;
            if (txn.size() >= threshold || !spaceWaiters.isEmpty()) {
                work.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    void checkHome(long home) {
        if (home < 0 || home >= io.deviceBlocks) {
            throw new IllegalArgumentException("home block " + home + " outside the device of " + io.deviceBlocks
                    + " blocks");
        }
        if (io.inJournal(home)) {
            throw new IllegalArgumentException("home block " + home + " is inside the journal area ["
                    + io.start + ", " + (io.start + io.length) + ")");
        }
    }

    /**
     * Runs {@code callback} once, on the journal thread, when {@link #tryStart} may succeed
     * again (the running transaction was switched, or the journal failed: then tryStart throws).
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
            if (spaceWaiters.size() >= options.maxSpaceWaiters()) {
                throw new IllegalStateException("too many onSpace registrations: " + spaceWaiters.size());
            }
            spaceWaiters.add(callback);
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The metadata lock, for readers that need a consistent view of live images. Never do I/O under it. */
    public ReentrantLock lock() {
        return lock;
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
        Throwable a = abortCause;
        if (a != null) {
            return CompletableFuture.failedFuture(aborted(a));
        }
        lock.lock();
        try {
            if (abortCause != null) {
                return CompletableFuture.failedFuture(aborted(abortCause));
            }
            if (stopping) {
                return CompletableFuture.failedFuture(new IllegalStateException("journal closed"));
            }
            if (pendingCommit == null) {
                pendingCommit = new CompletableFuture<>();
            }
            pendingCallers++;
            commitCalls.incrementAndGet();
            work.signal();
            return pendingCommit.copy();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Commits the running transaction, then writes every committed image home, flushes and
     * empties the log; afterCheckpoint callbacks run before the future completes.
     */
    public CompletableFuture<Void> checkpoint() {
        lock.lock();
        try {
            if (abortCause != null) {
                return CompletableFuture.failedFuture(aborted(abortCause));
            }
            if (stopping) {
                return CompletableFuture.failedFuture(new IllegalStateException("journal closed"));
            }
            if (pendingCheckpoint == null) {
                pendingCheckpoint = new CompletableFuture<>();
            }
            work.signal();
            return pendingCheckpoint.copy();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Commits the running transaction, checkpoints, and stops the journal thread (waits for
     * it unless called on it). Idempotent. Does not close the device. After an abort it only
     * stops the thread.
     */
    @Override
    public void close() {
        if (lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("close() while holding a handle or the metadata lock would deadlock");
        }
        lock.lock();
        try {
            stopping = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        joinThread();
    }

    /** Test support: stops the thread without committing or checkpointing (a crash). */
    void halt() {
        lock.lock();
        try {
            halted = true;
            stopping = true;
            work.signal();
        } finally {
            lock.unlock();
        }
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
        lock.lock();
        try {
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Most distinct blocks in one transaction (the bound of {@link #tryStart}). */
    public int maxTxnBlocks() {
        return maxTxn;
    }

    /** Block count at which the running transaction commits without being asked. */
    public int commitThreshold() {
        return threshold;
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
        long c = commits.get();
        long batches = commitBatches.get();
        return new JournalStats(c, emptyCommits.get(), blocksLogged.get(), logBlocksWritten.get(), flushes.get(),
                checkpoints.get(), blocksCheckpointed.get(), handles.get(), handlesRefused.get(),
                c == 0 ? 0 : (double) blocksLogged.get() / c, maxTxnSeen.get(), commitCalls.get(), batches,
                batches == 0 ? 0 : (double) batchedCalls.get() / batches, maxBatch.get(), durableTid,
                abortCause != null);
    }

    private void checkNotAborted() {
        Throwable a = abortCause;
        if (a != null) {
            throw aborted(a);
        }
    }

    private static JournalAbortedException aborted(Throwable cause) {
        return new JournalAbortedException("journal aborted after a device error: " + cause, cause);
    }

    // =====================================================================================
    // the journal thread

    /** What the journal thread does in one cycle; taken under the lock. */
    private static final class Work {
        Txn txn;
        CompletableFuture<Long> commitFuture;
        int callers;
        boolean checkpoint;
        CompletableFuture<Void> checkpointFuture;
        List<Runnable> space = List.of();
        boolean exit;
    }

    private void run() {
        for (;;) {
            Work w;
            lock.lock();
            try {
                w = nextWork();
            } catch (InterruptedException e) {
                // Nobody may silently strand the waiters: an interrupted journal is a failed one.
                abort(new java.io.InterruptedIOException("journal thread interrupted"));
                continue;
            } finally {
                lock.unlock();
            }
            if (w == null) {
                return;
            }
            execute(w);
            if (w.exit) {
                return;
            }
        }
    }

    /** Waits for and takes the next piece of work; null to exit. Lock held. */
    private Work nextWork() throws InterruptedException {
        for (;;) {
            if (halted) {
                return null;
            }
            if (abortCause != null) {
                failPending(abortCause);
                if (!spaceWaiters.isEmpty()) {
                    Work w = new Work();
                    w.space = drainSpaceWaiters();
                    return w;
                }
                if (stopping) {
                    return null;
                }
                work.await();
                continue;
            }
            boolean checkpointNow = pendingCheckpoint != null || stopping;
            boolean hasBlocks = !running.blocks.isEmpty();
            boolean commitNow = pendingCommit != null || checkpointNow
                    || (hasBlocks && (running.size() >= threshold || !spaceWaiters.isEmpty()))
                    || (!running.isEmpty() && intervalDue());
            if (commitNow) {
                Work w = new Work();
                if (!running.isEmpty()) {
                    try {
                        running.snapshot();
                    } catch (RuntimeException e) {
                        abort(e);
                        continue;
                    }
                    w.txn = running;
                    running = new Txn(hasBlocks ? running.tid + 1 : running.tid);
                }
                w.commitFuture = pendingCommit;
                w.callers = pendingCallers;
                pendingCommit = null;
                pendingCallers = 0;
                if (checkpointNow) {
                    w.checkpoint = true;
                    w.checkpointFuture = pendingCheckpoint;
                    pendingCheckpoint = null;
                }
                w.exit = stopping;
                w.space = drainSpaceWaiters();
                return w;
            }
            if (!spaceWaiters.isEmpty()) {
                // Running transaction holds no block: all the room there is.
                Work w = new Work();
                w.space = drainSpaceWaiters();
                return w;
            }
            long waitMillis = options.idlePoll().toMillis();
            if (!running.isEmpty()) {
                long due = running.firstChangeMillis + intervalMillis - clock.millis();
                waitMillis = Math.min(waitMillis, Math.max(1, due));
            }
            work.await(Math.max(1, waitMillis), TimeUnit.MILLISECONDS);
        }
    }

    private boolean intervalDue() {
        return running.firstChangeMillis >= 0 && clock.millis() - running.firstChangeMillis >= intervalMillis;
    }

    private List<Runnable> drainSpaceWaiters() {
        if (spaceWaiters.isEmpty()) {
            return List.of();
        }
        List<Runnable> l = new ArrayList<>(spaceWaiters);
        spaceWaiters.clear();
        return l;
    }

    /** Lock held. */
    private void failPending(Throwable cause) {
        if (pendingCommit != null) {
            pendingCommit.completeExceptionally(aborted(cause));
            pendingCommit = null;
            pendingCallers = 0;
        }
        if (pendingCheckpoint != null) {
            pendingCheckpoint.completeExceptionally(aborted(cause));
            pendingCheckpoint = null;
        }
    }

    private void abort(Throwable cause) {
        lock.lock();
        try {
            if (abortCause == null) {
                abortCause = cause;
                LOG.error("journal aborted: every later commit fails (read-only)", cause);
            }
            failPending(abortCause);
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    private void execute(Work w) {
        runAll(w.space, "onSpace");
        try {
            long tid = durableTid;
            Txn t = w.txn;
            if (t != null && !t.blocks.isEmpty()) {
                writeTxn(t);
                tid = t.tid;
            } else if (w.commitFuture != null || t != null) {
                io.flush();
                flushes.incrementAndGet();
                emptyCommits.incrementAndGet();
            }
            if (t != null) {
                checkpointCallbacks.addAll(t.afterCheckpoint);
            }
            if (t != null) {
                // Before the futures: whoever waited for the commit sees its effects (freed blocks).
                runAll(t.afterCommit, "afterCommit");
            }
            if (w.commitFuture != null) {
                commitBatches.incrementAndGet();
                batchedCalls.addAndGet(w.callers);
                maxBatch.accumulateAndGet(w.callers, Math::max);
                w.commitFuture.complete(tid);
            }
            if (w.checkpoint && !halted) {
                checkpointNow();
                if (w.checkpointFuture != null) {
                    w.checkpointFuture.complete(null);
                }
            }
        } catch (IOException | RuntimeException e) {
            abort(e);
            JournalAbortedException ex = aborted(abortCause);
            if (w.commitFuture != null) {
                w.commitFuture.completeExceptionally(ex);
            }
            if (w.checkpointFuture != null) {
                w.checkpointFuture.completeExceptionally(ex);
            }
        }
    }

    /**
     * Writes one snapshotted transaction to the log in one pwrite between two flushes. The first
     * (jbd2's REQ_PREFLUSH on the commit block) makes every data write that completed before the
     * transaction's handles durable before its commit record can be: a conversion to written
     * must never reach the media ahead of its data (ordered mode). The second makes the
     * transaction itself durable; the commit CRC covers every image, so a torn log write is
     * detected without a flush between images and commit block.
     */
    private void writeTxn(Txn t) throws IOException {
        int n = t.homes.length;
        int d = JournalFormat.descriptorsFor(n);
        int need = JournalFormat.logBlocksFor(n);
        options.hook().at(JournalHook.Point.BEFORE_LOG_WRITE, t.tid);
        if (head + need > io.length) {
            checkpointNow();
        }
        io.flush();
        flushes.incrementAndGet();
        if (writeBuf == null || writeBuf.capacity() < need * BLOCK_SIZE) {
            writeBuf = JournalIO.allocate(Math.max(need, JournalFormat.logBlocksFor(Math.min(maxTxn, 64))));
        }
        ByteBuffer buf = writeBuf;
        int[] crcs = new int[n];
        for (int i = 0; i < n; i++) {
            crcs[i] = JournalFormat.imageCrc(t.images[i]);
        }
        for (int k = 0; k < d; k++) {
            int from = k * JournalFormat.TAGS_PER_DESCRIPTOR;
            int count = Math.min(JournalFormat.TAGS_PER_DESCRIPTOR, n - from);
            JournalFormat.encodeDescriptor(JournalFormat.blockAt(buf, k * BLOCK_SIZE), t.tid, k, k == d - 1,
                    t.homes, crcs, from, count);
        }
        for (int i = 0; i < n; i++) {
            buf.put((d + i) * BLOCK_SIZE, t.images[i], 0, BLOCK_SIZE);
        }
        JournalFormat.encodeCommit(JournalFormat.blockAt(buf, (d + n) * BLOCK_SIZE), t.tid, n, d, clock.millis(),
                JournalFormat.dataCrc(crcs, n));
        io.writeJournal(head, buf.duplicate().position(0).limit(need * BLOCK_SIZE));
        logBlocksWritten.addAndGet(need);
        options.hook().at(JournalHook.Point.BEFORE_LOG_FLUSH, t.tid);
        io.flush();
        flushes.incrementAndGet();
        head += need;
        nextLogTid = t.tid + 1;
        for (int i = 0; i < n; i++) {
            dirty.put(t.homes[i], t.images[i]);
        }
        commits.incrementAndGet();
        blocksLogged.addAndGet(n);
        maxTxnSeen.accumulateAndGet(n, Math::max);
        durableTid = t.tid;
        options.hook().at(JournalHook.Point.AFTER_COMMIT, t.tid);
    }

    /**
     * Full checkpoint: every committed image home, flush, superblock sequence = next tid (log
     * empty), flush, then the afterCheckpoint callbacks.
     */
    private void checkpointNow() throws IOException {
        options.hook().at(JournalHook.Point.BEFORE_CHECKPOINT, nextLogTid);
        if (head > 1) {
            int n = io.writeHome(dirty);
            io.flush();
            flushes.incrementAndGet();
            io.writeSuper(nextLogTid);
            io.flush();
            flushes.incrementAndGet();
            head = 1;
            dirty.clear();
            checkpoints.incrementAndGet();
            blocksCheckpointed.addAndGet(n);
        }
        List<Runnable> cbs = new ArrayList<>(checkpointCallbacks);
        checkpointCallbacks.clear();
        runAll(cbs, "afterCheckpoint");
    }

    private static void runAll(List<Runnable> callbacks, String what) {
        for (Runnable r : callbacks) {
            try {
                r.run();
            } catch (Throwable t) {
                LOG.error("journal {} callback failed", what, t);
            }
        }
    }
}
