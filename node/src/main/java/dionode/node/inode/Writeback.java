package dionode.node.inode;

import static dionode.node.inode.InodeState.B;

import dionode.node.cache.FilePages;
import dionode.node.cache.PageRun;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One file's writeback (the flusher's work on an inode, and filemap_write_and_wait_range): takes
 * runs of dirty pages and writes each as a writeback {@link WritePath} write, which holds no
 * {@code i_rwsem} and is ordered: it allocates (unwritten below i_disksize, written past it under
 * the orphan entry; a file without extents keeps each step's handle open across its data), writes
 * the data, then converts and moves i_disksize. Data first, then the metadata that makes it
 * visible. Runs go in parallel, but the one that moves i_disksize goes alone. The exclusive extent
 * changes hold new runs off and wait for those in flight ({@link #hold}, {@link #awaitIdle}), as
 * truncate waits on page writeback; buffered writes do not wait for it (inode_dio_wait counts
 * direct I/O only). A flush waits, parked, until its range has nothing dirty and nothing in
 * flight. Confined to its inode actor.
 */
final class Writeback {
    private static final Logger LOG = LoggerFactory.getLogger(Writeback.class);
    /** Pages per run: 256 KiB, one device write. */
    static final int MAX_RUN_PAGES = 64;
    /** Runs in flight per file. */
    static final int MAX_RUNS = 16;

    private final InodeState state;
    private int runs;
    private boolean extendingRun;
    /** Runs an earlier actor of this file took whose writes may still land: they hold their pages and i_disksize. */
    private int inherited;
    private int holds;
    /** Pages memory pressure asked for while runs were held off: asked again when they may start. */
    private int pendingPressure;
    private final List<Waiter> waiters = new ArrayList<>();
    private final List<Waiter> idleWaiters = new ArrayList<>();

    /** A flush of pages {@code [from, to)} waiting for them to be clean and idle. */
    private record Waiter(InodeOp op, long from, long to, Runnable then) {
    }

    Writeback(InodeState state) {
        this.state = state;
    }

    private FilePages pages() {
        return state.pages();
    }

    /** filemap_write_and_wait_range over bytes {@code [from, to)}: {@code then} runs as {@code op}'s step once they are on the device. */
    void flush(InodeOp op, long from, long to, Runnable then) {
        long first = from / B;
        long end = to >= Long.MAX_VALUE - B ? Long.MAX_VALUE : (to + B - 1) / B;
        kickRange(first, end);
        if (!pages().busy(first, end)) {
            then.run();
        } else {
            waiters.add(new Waiter(op, first, end, then));
        }
    }

    /**
     * {@link #flush}, then {@code then} only if no writeback of the file failed meanwhile; else the
     * request answers EIO, as filemap_write_and_wait_range's error does (fsync reports it too).
     */
    void flushOrFail(InodeOp op, long from, long to, Runnable then) {
        long errors = pages().errorCount();
        flush(op, from, to, () -> {
            if (pages().errorCount() != errors) {
                op.fail(new Reply.Error(Errno.EIO, "writing the range of inode " + state.ino + " back to the device failed"));
            } else {
                then.run();
            }
        });
    }

    /** The flusher's tick: writes back runs starting at pages dirtied at or before {@code cutoff}. */
    void expire(long cutoff) {
        kickOldest(cutoff, Integer.MAX_VALUE);
    }

    /** Memory runs short: writes back about {@code n} pages, first dirtied first. */
    void pressure(int n) {
        if (holds > 0) {
            pendingPressure = Math.max(pendingPressure, n);
            return;
        }
        kickOldest(Long.MAX_VALUE, n);
    }

    /**
     * Takes over the runs a stopped actor of this file left: each counts as in flight until none
     * of its writes can still land, then its pages are dirty again for a run of this actor.
     */
    void inherit(List<FilePages.TrackedRun> runs) {
        for (FilePages.TrackedRun t : runs) {
            inherited++;
            this.runs++;
            t.landed().whenComplete((v, thrown) -> state.self.tell(new InodeCommand.Resume(state, () -> {
                inherited--;
                this.runs--;
                pages().abandon(t.run(), state.volume.nowNanos());
                state.keepDelayedReservation();
                idleNow();
                rekick();
            })));
        }
    }

    /** An exclusive extent change begins: no new run starts until it ends. */
    void hold() {
        holds++;
    }

    void release() {
        if (--holds == 0) {
            int n = pendingPressure;
            pendingPressure = 0;
            if (n > 0) {
                kickOldest(Long.MAX_VALUE, n);
            }
            rekick();
            state.cache.wake();
        }
    }

    /** {@code then} runs as {@code op}'s step once no run is in flight (new ones held off by {@link #hold}). */
    void awaitIdle(InodeOp op, Runnable then) {
        if (runs == 0) {
            then.run();
        } else {
            idleWaiters.add(new Waiter(op, 0, 0, then));
        }
    }

    /** Nothing in flight and nobody waiting. */
    boolean idle() {
        return runs == 0 && waiters.isEmpty() && idleWaiters.isEmpty();
    }

    private void kickRange(long from, long to) {
        long cursor = from;
        while (canStart()) {
            long start = pages().firstDirty(cursor, to);
            if (start < 0 || startRun(start, (int) Math.min(MAX_RUN_PAGES, to - start)) == 0) {
                return;
            }
            cursor = start + 1;
        }
    }

    private void kickOldest(long cutoff, int pagesWanted) {
        int started = 0;
        while (started < pagesWanted && canStart()) {
            long start = pages().oldestDirtyIndex();
            int count = start < 0 || pages().dirtiedAt(start) > cutoff ? 0 : startRun(start, MAX_RUN_PAGES);
            if (count == 0) {
                return;
            }
            started += count;
        }
    }

    private boolean canStart() {
        return holds == 0 && runs < MAX_RUNS && state.inode() != null;
    }

    /** Starts the run from page {@code start}; answers its pages, 0 when it would move i_disksize while another run does. */
    private int startRun(long start, int max) {
        long size = state.inode().size;
        boolean extending = Math.min((start + max) * B, size) > state.inode().disksize;
        if (extending && (extendingRun || inherited > 0)) {
            return 0;
        }
        PageRun run = pages().takeRun(start, max);
        extending = Math.min(run.end() * B, size) > state.inode().disksize;
        runs++;
        extendingRun |= extending;
        boolean moved = extending;
        CompletableFuture<Reply> done = new CompletableFuture<>();
        CompletableFuture<Void> landed = new CompletableFuture<>();
        pages().track(run, landed);
        // completions come back as a message: the write answers inside its own last step
        done.whenComplete((reply, thrown) -> state.self.tell(new InodeCommand.Resume(state, () -> ended(run, moved, reply))));
        WritePath.writeback(state, done, landed, run.first() * B, run.data(), Math.min(run.end() * B, Math.max(size, run.first() * B)));
        return run.count();
    }

    private void ended(PageRun run, boolean moved, Reply reply) {
        runs--;
        if (moved) {
            extendingRun = false;
        }
        boolean ok = reply instanceof Reply.Written;
        if (!ok) {
            LOG.warn("inode {}: writeback of pages {}-{} failed, the next fsync answers EIO: {}", state.ino, run.first(),
                    run.end() - 1, reply instanceof Reply.Error e ? e.message() : reply);
        }
        pages().writebackDone(run, ok);
        state.keepDelayedReservation();
        state.counters.add(NodeCounters.WRITEBACK_PAGES, run.count());
        idleNow();
        rekick();
    }

    private void idleNow() {
        if (runs == 0 && !idleWaiters.isEmpty()) {
            List<Waiter> ready = List.copyOf(idleWaiters);
            idleWaiters.clear();
            for (Waiter w : ready) {
                state.steps.continueWith(w.op(), w.then());
            }
        }
    }

    /** Runs the flushes whose ranges are done, and starts what the others still need. */
    private void rekick() {
        Iterator<Waiter> it = waiters.iterator();
        List<Waiter> ready = new ArrayList<>();
        while (it.hasNext()) {
            Waiter w = it.next();
            kickRange(w.from(), w.to());
            if (!pages().busy(w.from(), w.to())) {
                it.remove();
                ready.add(w);
            }
        }
        for (Waiter w : ready) {
            state.steps.continueWith(w.op(), w.then());
        }
    }
}
