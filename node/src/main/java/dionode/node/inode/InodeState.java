package dionode.node.inode;

import dionode.node.alloc.BlockAllocator;
import dionode.node.cache.FileOwner;
import dionode.node.cache.FilePages;
import dionode.node.cache.PageCache;
import dionode.node.cache.PageCacheHook;
import dionode.node.extent.ExtentCorruptionException;
import dionode.node.fs.Inode;
import dionode.node.fs.NoSpaceException;
import dionode.node.fs.Volume;
import dionode.node.lock.InodeRwsem;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.Layout;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One inode actor's state, the part its rooms share: the file's metadata and whether it is there
 * at all, {@code i_rwsem} and the requests it handed the lock to, the count of direct I/O in
 * flight, the steps waiting for the journal, the file's pages and their writeback, and every
 * request not yet answered. The
 * {@link InodeActor} owns it and hands it to each {@link InodeOp}; nothing else holds it.
 * Confined to its inode actor: every method runs on the actor's thread.
 */
final class InodeState {
    /** The file system block size, defined once for node.inode. */
    static final int B = Layout.BLOCK_SIZE;
    static final int BLOCK_BITS = Integer.numberOfTrailingZeros(B);

    final long ino;
    final Volume volume;
    final DataPath data;
    /** The DAX files' data path, or null when the device is not mapped ({@link #daxRefusal} says why). */
    final DataPath dax;
    final String daxRefusal;
    final NodeCounters counters;
    final int sectorSize;
    final ActorRef<InodeCommand> self;
    final InodeRwsem<InodeOp> rwsem;
    final StepTrampoline steps = new StepTrampoline();
    final DioCount dio;
    final JournalParking parking;
    final PageCache cache;
    final PageCacheHook cacheHook;
    final Writeback writeback;
    /** This actor incarnation as the page cache knows it. */
    final FileOwner owner;
    /** The file's pages; another set when the number is given to a new file ({@link #open}). */
    private FilePages pages;
    /** Writes whose blocks past i_disksize the orphan entry protects: the last one to finish takes the entry off. */
    private int orphanHolders;
    /** Lock hand-offs to run, trampolined by the actor so a chain of grants never deepens the stack. */
    private final ArrayDeque<InodeOp> granted = new ArrayDeque<>();
    /** Every request admitted and not yet answered, so that none is left unanswered if the actor stops. */
    private final Set<InodeOp> live = new HashSet<>();
    private Inode inode;
    private String corrupt;
    /** No file at this number (never created, or unlinked): {@link #open} looks again. */
    private boolean deleted;

    InodeState(long ino, InodeContext ctx, ActorRef<InodeCommand> self) {
        this.ino = ino;
        this.volume = ctx.volume();
        this.data = ctx.data();
        this.dax = ctx.dax();
        this.daxRefusal = ctx.daxRefusal();
        this.counters = ctx.counters();
        this.sectorSize = volume.device().sectorSize();
        this.self = self;
        this.rwsem = new InodeRwsem<>(ctx.maxWaiters());
        this.dio = new DioCount(counters, steps);
        this.parking = new JournalParking(volume.journal(), ctx.maxWaiters(),
                step -> self.tell(new InodeCommand.Resume(this, step)));
        this.cache = ctx.cache();
        this.cacheHook = ctx.cacheHook();
        this.writeback = new Writeback(this);
        this.owner = newOwner();
    }

    /** What the page cache asks of this file arrives as messages to its actor. */
    private FileOwner newOwner() {
        return new FileOwner() {
            @Override
            public void shrink(int n) {
                self.tell(new InodeCommand.Resume(InodeState.this, () -> {
                    int evicted = pages.evictClean(n);
                    if (evicted < n) {
                        writeback.pressure(n - evicted);
                    }
                }));
            }

            @Override
            public void expire(long dirtiedBefore) {
                self.tell(new InodeCommand.Resume(InodeState.this, () -> writeback.expire(dirtiedBefore)));
            }
        };
    }

    FilePages pages() {
        return pages;
    }

    /**
     * Sets the file's delayed-allocation reservation to what its pages over holes still need: after
     * writeback allocated from it (or failed), a truncate dropped such pages, or an unlink.
     */
    void keepDelayedReservation() {
        volume.allocator().reserve(BlockAllocator.delayedKey(ino), pages.delayedPages(), true);
    }

    /** Puts the file on the orphan list (in the caller's step) unless another write has it there. */
    void holdOrphan() {
        if (orphanHolders++ == 0) {
            inode.flags |= InodeRecord.FLAG_ORPHAN;
        }
    }

    /** Takes the file off the orphan list (in the caller's step) when no other write still needs it there. */
    void releaseOrphan() {
        if (--orphanHolders == 0) {
            inode.flags &= ~InodeRecord.FLAG_ORPHAN;
        }
    }

    /** Loads the inode's record (in memory since mount: no I/O; its extent blocks are read when a lookup needs them). */
    void open() {
        deleted = false;
        boolean first = pages == null;
        pages = cache.file(ino, owner);
        if (first) {
            // runs a stopped actor took: their completions to it are dropped (InodeActor.onResume)
            writeback.inherit(pages.trackedRuns());
        }
        try {
            if (!volume.inodes().validIno(ino)) {
                deleted = true;
            } else {
                inode = volume.open(ino);
                // the record holds i_disksize; buffered writes may have grown i_size past it (a restarted actor)
                inode.size = Math.max(inode.size, pages.size());
            }
        } catch (ExtentCorruptionException corruption) {
            corrupt = corruption.getMessage();
        } catch (IllegalArgumentException notInUse) {
            deleted = true;
        }
    }

    /**
     * Where the file's data goes: the mapping for a DAX file, block I/O for the others. Extent
     * blocks are metadata and always go by {@link #data}, as the journal writes them.
     */
    DataPath fileData() {
        return inode.dax() ? dax : data;
    }

    /** The file's metadata; null once it is unlinked or when it was never there. */
    Inode inode() {
        return inode;
    }

    boolean deleted() {
        return deleted;
    }

    /** Why the file is bad, or null. */
    String corrupt() {
        return corrupt;
    }

    /**
     * The file's slot was cleared: its number goes back to the free set at once, as ext4_free_inode
     * clears the inode bitmap bit when the last reference goes, so a create may reuse it (with the
     * next generation: handles to this file answer ESTALE then). Until then every request answers
     * ENOENT; once a create has reused the number, the next request finds the new file.
     */
    void markUnlinked() {
        inode = null;
        deleted = true;
        cache.forget(ino);
        volume.allocator().reserve(BlockAllocator.delayedKey(ino), 0, true);
        volume.inodes().release(ino);
    }

    /** Completes {@code reply}, counting errors for {@code dionode stats}. */
    void reply(CompletableFuture<Reply> reply, Reply answer) {
        if (answer instanceof Reply.Error error) {
            counters.inc(error.errno() == Errno.EAGAIN ? NodeCounters.EAGAIN : NodeCounters.ERRORS);
        }
        reply.complete(answer);
    }

    /** The error a failed step answers; corruption also marks the file bad, for this actor and any later one. */
    Reply.Error failure(Throwable thrown) {
        Reply.Error error = Errnos.of(ino, thrown);
        if (error.errno() == Errno.EFSCORRUPTED) {
            corrupt = error.message();
            volume.markBad(ino, corrupt);
        }
        return error;
    }

    /** jbd2_journal_start sleeping: {@code step} runs again when the journal may have room. */
    void parkForJournal(Runnable step) {
        if (!parking.park(step)) {
            throw new NoSpaceException("journal wait queue of inode " + ino + " is full");
        }
    }

    /** A request taken up; while any is, the extent cache's shrinker leaves this file's blocks alone. */
    void admit(InodeOp op) {
        if (live.isEmpty()) {
            volume.extentCache().busy(ino, true);
        }
        live.add(op);
    }

    void answered(InodeOp op) {
        if (live.remove(op) && live.isEmpty()) {
            volume.extentCache().busy(ino, false);
        }
    }

    /** Requests admitted and not yet answered. */
    List<InodeOp> live() {
        return List.copyOf(live);
    }

    int liveCount() {
        return live.size();
    }

    /** {@code op} was handed the lock; it runs from the actor's grant loop. */
    void handOver(InodeOp op) {
        granted.add(op);
    }

    /** The next request handed the lock, or null. */
    InodeOp nextGranted() {
        return granted.poll();
    }

    /** Nothing held, waiting, in flight or parked: the actor may be passivated. */
    boolean quiet() {
        return live.isEmpty() && rwsem.idle() && dio.inFlight() == 0 && parking.size() == 0 && dio.drainWaiters() == 0
                && granted.isEmpty() && writeback.idle() && pages.dirtyPages() == 0 && pages.underWriteback() == 0
                // an error no fsync reported yet, or an i_size only memory holds, would go with the actor
                && !pages.unseenError() && (inode == null || inode.size <= inode.disksize);
    }

    InodeCommand.LockSnapshot snapshot() {
        return new InodeCommand.LockSnapshot(rwsem.readers(), rwsem.writerHeld(), rwsem.waiting(), dio.inFlight(),
                dio.drainWaiters(), parking.size(), live.size(), inode == null ? -1 : inode.size,
                inode == null ? -1 : inode.disksize, inode == null ? 0 : inode.mode, inode != null && inode.orphan());
    }
}
