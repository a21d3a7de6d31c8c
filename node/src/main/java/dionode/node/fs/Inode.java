package dionode.node.fs;

import dionode.node.alloc.BlockAllocator;
import dionode.node.extent.BlockMap;
import dionode.node.extent.Extent;
import dionode.node.extent.ExtentCorruptionException;
import dionode.node.extent.ExtentFormat;
import dionode.node.extent.ExtentMissException;
import dionode.node.extent.ExtentNodeStore;
import dionode.node.extent.ExtentTree;
import dionode.node.extent.IndirectMap;
import dionode.node.extent.Mapping;
import dionode.node.journal.Handle;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.Layout;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import java.util.List;
import java.util.Map;

/**
 * One file's metadata in memory (the fields of its inode record and its block map: an extent tree,
 * or for a no-extent file an ext3-style {@link IndirectMap}) and the
 * journaled steps that change it. Every step does bounded work inside one handle and returns
 * where to continue, so large truncates, punches and conversions are split over transactions the
 * way ext4 restarts its handles. Confined to its owner: the inode actor, or mount-time recovery.
 */
public final class Inode {
    /** Largest byte size a file can reach: 2^32 logical blocks, like ext4's s_maxbytes for extents. */
    public static final long MAX_BYTES = (ExtentFormat.MAX_LBLK + 1) * Layout.BLOCK_SIZE - Layout.BLOCK_SIZE;

    private final Volume vol;
    private final long ino;
    private final BlockMap tree;
    private final Store store = new Store();
    /** The running step's handle; null outside a step. */
    private Handle stepHandle;
    /** The running step's undo log; null outside a step. */
    private StepUndo undo;
    /** Unwritten blocks, counted on first use and then kept; -1 until counted. */
    private long unwritten = -1;
    /** The running step converts to written: its node allocations may use the reservation. */
    private boolean converting;
    /**
     * The extent cache's drop count for this file when its whole tree was last found in memory (-1:
     * never): while the count stays there, no block of the tree has left memory since, and a step
     * need not walk the tree to know it can run to its end.
     */
    private long wholeAtDrops = -1;

    public int flags;
    public int mode;
    public int generation;
    public LockPolicy policy;
    public long size;
    public long disksize;
    public long blocks;
    public long mtimeNanos;
    public long ctimeNanos;
    public long crtimeNanos;
    public String name;
    /** The inode number of the owner's identity record; 0: anonymous. Never changes. */
    public int owner;

    Inode(Volume vol, InodeRecord record) {
        this.vol = vol;
        this.ino = record.ino();
        this.tree = (record.flags() & InodeRecord.FLAG_INDIRECT) != 0 ? new IndirectMap(ino, record.root().clone(), store)
                : new ExtentTree(ino, record.root().clone(), store);
        restoreFields(record);
    }

    public long ino() {
        return ino;
    }

    public BlockMap tree() {
        return tree;
    }

    /** A file without extents (no EXT4_EXTENTS_FL): ext3's block map, no unwritten blocks. */
    public boolean indirect() {
        return (flags & InodeRecord.FLAG_INDIRECT) != 0;
    }

    /** s_maxbytes for this file's kind of map (ext4_max_size for extents, ext4_max_bitmap_size without). */
    public long maxBytes() {
        return Math.min(MAX_BYTES, tree.maxBlocks() * Layout.BLOCK_SIZE - Layout.BLOCK_SIZE);
    }

    /**
     * ext4_map_blocks without allocation: the extent cache (ext4_es_lookup_extent), else the
     * tree's blocks, and the answer checked as check_block_validity does (patch 6: a cached extent
     * is checked too): an extent outside the data area (into the metadata regions, past the
     * device) is corruption, and nothing may be read or written through it.
     *
     * @throws ExtentMissException when an extent block it needs is not in memory
     * @throws ExtentCorruptionException when the extent found cannot be trusted
     */
    public Mapping map(long lblk, long maxLen) {
        Mapping mapping;
        try {
            mapping = tree.map(lblk, maxLen);
        } catch (ExtentMissException miss) {
            vol.extentCache().miss();
            throw miss;
        }
        vol.extentCache().hit();
        if (mapping.allocated() && !vol.layout().inDataArea(mapping.pblk(), mapping.len())) {
            throw new ExtentCorruptionException("inode " + ino + ": logical blocks " + lblk + ".." + (mapping.end() - 1)
                    + " map to device blocks " + mapping.pblk() + ".." + (mapping.pblk() + mapping.len() - 1)
                    + ", outside the data area");
        }
        return mapping;
    }

    /** EXT4_GET_BLOCKS_CACHED_NOWAIT: {@link #map} from memory only; null where it would read the device (-EAGAIN). */
    public Mapping mapCached(long lblk, long maxLen) {
        try {
            return map(lblk, maxLen);
        } catch (ExtentMissException miss) {
            return null;
        }
    }

    /**
     * An extent block read from the device because a lookup missed it: checked like any metadata
     * read (ext4_ext_check), then cached.
     *
     * @throws ExtentCorruptionException when the block cannot be trusted
     */
    public void accept(ExtentMissException.Want want, byte[] image) {
        vol.extentCache().read();
        tree.checkBlock(want, image, vol.layout()::inDataArea);
        vol.extentCache().add(ino, want.blk(), image);
    }

    /**
     * For walks over the whole tree (stat): every block of it is in memory.
     *
     * @throws ExtentMissException naming the blocks to read first
     */
    public void requireWholeTree() {
        wholeTree();
    }

    /**
     * Checks that every node of the tree is in memory (what a journaled step works on: the
     * unwritten count and split potential it keeps exact are over the whole tree).
     *
     * @throws ExtentMissException naming the blocks to read first
     */
    private void wholeTree() {
        List<ExtentMissException.Want> missing = tree.missing();
        if (!missing.isEmpty()) {
            vol.extentCache().miss();
            throw new ExtentMissException(ino, missing);
        }
    }

    /** The id of the volume that holds this file (its superblock's), "" before a mount gave it one. */
    public String volumeId() {
        java.util.UUID id = vol.superblock().volumeId();
        return id == null ? "" : id.toString();
    }

    /** This file's handle, tagged with its volume. */
    public FileId handle() {
        return new FileId(ino, generation, vol.tag());
    }

    /** The identity that created the file ({@code anonymous} without a client certificate). */
    public String ownerName() {
        return vol.identities().name(owner);
    }

    /** An identity record, not a file: no request may reach it. */
    public boolean identity() {
        return (flags & InodeRecord.FLAG_IDENTITY) != 0;
    }

    public InodeRecord record() {
        return new InodeRecord(ino, flags, mode, generation, policy, size, disksize, blocks, mtimeNanos, ctimeNanos,
                crtimeNanos, tree.root().clone(), name, owner);
    }

    /**
     * The record as the inode table keeps it: its size is i_disksize's when buffered writes have
     * grown i_size past what is on the device (ext4 writes i_disksize as the on-disk i_size).
     */
    private InodeRecord onDiskRecord() {
        InodeRecord r = record();
        return size <= disksize ? r : new InodeRecord(ino, flags, mode, generation, policy, disksize, disksize, blocks, mtimeNanos,
                ctimeNanos, crtimeNanos, r.root(), name, owner);
    }

    /** IS_NOSEC: nothing for file_remove_privs to clear. */
    public boolean nosec() {
        return (mode & (InodeRecord.S_ISUID | InodeRecord.S_ISGID)) == 0;
    }

    public boolean orphan() {
        return (flags & InodeRecord.FLAG_ORPHAN) != 0;
    }

    /** IS_DAX: data goes through the device's mapping (DESIGN §4). */
    public boolean dax() {
        return (flags & InodeRecord.FLAG_DAX) != 0;
    }

    // ------------------------------------------------------------------ handles

    /** Credits for one step that touches up to {@code extents} extents (ext4_ext_calc_credits, coarsely). */
    public int stepCredits(int extents) {
        int depth = Math.max(tree.depth(), 1) + 1;
        return 1 + (depth + 1) * (extents + 2) + 2 * BlockAllocator.creditsFor(Extent.MAX_WRITTEN_LEN) * (extents + 1);
    }

    /** How many extents one step may touch so that it fits one transaction. */
    public int extentsPerStep() {
        int max = vol.journal().maxTxnBlocks();
        int extents = 1;
        while (extents < 64 && stepCredits(extents * 2) <= max / 2) {
            extents *= 2;
        }
        return extents;
    }

    /**
     * Starts a handle for this inode's next step; null when the journal has no room now. The step
     * needs the whole tree in memory (the unwritten count and split potential it keeps exact are over
     * the whole tree); the file is held in the extent cache until the step ends, so nothing the
     * shrinker does meanwhile can make it miss half way. The tree is walked only when the shrinker
     * took blocks of this file since it was last found whole, not once per step.
     *
     * @throws ExtentMissException before any handle is taken, when blocks of the tree must be read first
     */
    public Handle begin(int credits) {
        long drops = vol.extentCache().hold(ino);
        Handle handle = null;
        try {
            if (drops != wholeAtDrops) {
                wholeTree();
                wholeAtDrops = drops;
            }
            long unwrittenNow = unwritten();
            handle = vol.journal().tryStart(Math.min(credits, vol.journal().maxTxnBlocks()));
            if (handle != null) {
                stepHandle = handle;
                undo = new StepUndo(record(), unwrittenNow, false);
            }
            return handle;
        } finally {
            if (handle == null) {
                vol.extentCache().busy(ino, false);
            }
        }
    }

    /**
     * Starts a handle for a step that changes only the inode's record (times, mode, size, flags),
     * never its extents: it needs no extent block in memory. Null when the journal has no room now.
     */
    public Handle beginRecord(int credits) {
        Handle handle = vol.journal().tryStart(Math.min(credits, vol.journal().maxTxnBlocks()));
        if (handle != null) {
            stepHandle = handle;
            undo = new StepUndo(record(), unwritten, true);
        }
        return handle;
    }

    /** Refuses extent changes in a step begun with {@link #beginRecord}. */
    private void extentStep() {
        if (undo != null && undo.recordOnly) {
            throw new IllegalStateException("inode " + ino + ": a step begun for the inode record only came to change extents");
        }
    }

    /**
     * Ends the step: sets the inode's node reservation to what its unwritten blocks may still need,
     * gives back what the step freed, logs the inode record and ends the handle. A step that
     * promised more unwritten space than the reservation can cover is undone instead.
     *
     * @throws NoSpaceException when the step was undone for want of blocks to reserve
     */
    public void commitStep(Handle handle) {
        StepUndo done = undo;
        if (done != null && done.recordOnly) {
            try {
                vol.inodes().write(handle, onDiskRecord());
            } finally {
                endStep(handle);
            }
            return;
        }
        long need;
        try {
            need = tree.conversionReserve(unwritten());
        } catch (RuntimeException e) {
            abortStep(handle);
            throw e;
        }
        boolean promised = done != null && unwritten > done.unwrittenBefore;
        if (!vol.allocator().reserve(ino, need, !promised)) {
            abortStep(handle);
            throw new NoSpaceException("no free block to reserve " + need + " extent-node blocks for the unwritten blocks of inode "
                    + ino);
        }
        try {
            if (done != null) {
                for (long blk : done.freedNodes) {
                    vol.allocator().freeMeta(handle, blk);
                    vol.extentCache().remove(blk);
                }
                for (BlockAllocator.Run run : done.freedRuns) {
                    vol.allocator().free(handle, run);
                }
            }
            vol.inodes().write(handle, onDiskRecord());
        } finally {
            endStep(handle);
        }
    }

    /**
     * Ends a step that failed part way, putting the extent tree, the inode's fields and the
     * allocator back as they were before it. Nodes the step allocated go back like freed nodes (after
     * a checkpoint: the running transaction holds their images), its data blocks at once.
     */
    public void abortStep(Handle handle) {
        StepUndo failed = undo;
        try {
            if (failed != null) {
                for (Map.Entry<Long, byte[]> saved : failed.images.entrySet()) {
                    byte[] live = store.node(saved.getKey()); // held in the cache since the step began
                    System.arraycopy(saved.getValue(), 0, live, 0, live.length);
                }
                for (long blk : failed.newNodes) {
                    vol.allocator().freeMeta(handle, blk);
                    vol.extentCache().remove(blk);
                }
                for (int i = failed.newRuns.size() - 1; i >= 0; i--) {
                    vol.allocator().unallocate(handle, failed.newRuns.get(i));
                }
                System.arraycopy(failed.before.root(), 0, tree.root(), 0, InodeRecord.ROOT_BYTES);
                restoreFields(failed.before);
                unwritten = failed.unwrittenBefore;
                tree.forgetShape();
            }
        } finally {
            endStep(handle);
        }
    }

    private void endStep(Handle handle) {
        boolean extents = undo != null && !undo.recordOnly;
        stepHandle = null;
        undo = null;
        try {
            handle.close();
        } finally {
            if (extents) {
                vol.extentCache().busy(ino, false);
            }
        }
    }

    /** Every field of the record but the extent root, which the tree holds. */
    private void restoreFields(InodeRecord record) {
        flags = record.flags();
        mode = record.mode();
        generation = record.generation();
        policy = record.policy();
        size = record.size();
        disksize = record.disksize();
        blocks = record.blocks();
        mtimeNanos = record.mtimeNanos();
        ctimeNanos = record.ctimeNanos();
        crtimeNanos = record.crtimeNanos();
        owner = record.owner();
        name = record.name();
    }

    /**
     * Unwritten blocks of the file.
     *
     * @throws ExtentMissException when they are not counted yet and blocks of the tree must be read first
     */
    public long unwritten() {
        if (unwritten < 0) {
            wholeTree();
            long counted = 0;
            for (Extent extent : tree.extents(0, ExtentFormat.MAX_LBLK + 1)) {
                counted += extent.unwritten() ? extent.len() : 0;
            }
            unwritten = counted;
        }
        return unwritten;
    }

    /**
     * Blocks the node reservation must grow by if {@code more} blocks become unwritten, at the
     * tree's present shape: what an allocation must find free beyond its data blocks.
     */
    public long reserveGrowth(long more) {
        return Math.max(0, tree.conversionReserve(unwritten() + more) - vol.allocator().reservation(ino));
    }

    // ------------------------------------------------------------------ steps

    /** Blocks in {@code [from, to)} that are holes. */
    public long holeBlocks(long from, long to) {
        long holes = 0;
        for (long pos = from; pos < to; ) {
            Mapping mapping = map(pos, to - pos);
            if (!mapping.allocated()) {
                holes += mapping.len();
            }
            pos = mapping.end();
        }
        return holes;
    }

    /** {@link #allocate} with every block unwritten. */
    public StepResult allocateUnwritten(Handle handle, long from, long to, int maxRuns, boolean cachedNowait) {
        return allocate(handle, from, to, maxRuns, cachedNowait, Long.MAX_VALUE);
    }

    /**
     * Allocates the holes of {@code [from, to)} as unwritten extents, contiguous where possible
     * (ext4_ext_find_goal: next to the extent before). At most {@code maxRuns} runs. Holes from
     * {@code writtenFrom} on are allocated written (ext4_iomap_alloc at or past i_size: an
     * extending write whose blocks the orphan entry and i_disksize protect, so no conversion follows).
     *
     * @param cachedNowait the request is NOWAIT, its lookups cache-only: an allocation never is
     *                     (EXT4_GET_BLOCKS_CREATE with CACHED_NOWAIT, ext4_map_blocks' WARN_ON_ONCE)
     * @return where to continue ({@code to} when done) and the blocks allocated
     * @throws NoSpaceException when the device has no free block
     * @throws IllegalStateException for an allocation under a cache-only lookup, before anything changes
     */
    public StepResult allocate(Handle handle, long from, long to, int maxRuns, boolean cachedNowait, long writtenFrom) {
        return allocate(handle, from, to, maxRuns, cachedNowait, writtenFrom, BlockAllocator.NO_RESERVATION);
    }

    /**
     * {@link #allocate(Handle, long, long, int, boolean, long)} drawing on the allocator's
     * reservation {@code key} first: writeback allocating what its buffered writes reserved.
     */
    public StepResult allocate(Handle handle, long from, long to, int maxRuns, boolean cachedNowait, long writtenFrom,
            long key) {
        if (cachedNowait) {
            throw new IllegalStateException("inode " + ino + ": a NOWAIT request came to allocate blocks " + from + ".." + (to - 1)
                    + "; it must have been refused EAGAIN before");
        }
        extentStep();
        long pos = from;
        long allocated = 0;
        int runs = 0;
        while (pos < to && runs < maxRuns) {
            Mapping mapping = map(pos, to - pos);
            if (mapping.allocated()) {
                pos = mapping.end();
                continue;
            }
            boolean asUnwritten = pos < writtenFrom;
            if (asUnwritten && !tree.hasUnwritten()) {
                throw new IllegalStateException("inode " + ino + ": the hole at block " + pos + " of a file without extents came"
                        + " to be allocated unwritten");
            }
            long want = Math.min(mapping.len(), asUnwritten ? writtenFrom - pos : Long.MAX_VALUE);
            BlockAllocator.Run run = vol.allocator().allocate(handle, goal(pos), Math.min(want, tree.maxRun(pos, asUnwritten)), key);
            if (run == null) {
                throw new NoSpaceException("no free block for inode " + ino);
            }
            undo.newRuns.add(run);
            tree.replace(pos, pos + run.len(), List.of(new Extent(pos, (int) run.len(), run.start(), asUnwritten)));
            blocks += run.len();
            unwritten += asUnwritten ? run.len() : 0;
            allocated += run.len();
            pos += run.len();
            runs++;
        }
        return new StepResult(pos, allocated);
    }

    private long goal(long lblk) {
        Extent before = tree.lastBefore(lblk);
        if (before != null) {
            return before.pblk() + (lblk - before.lblk());
        }
        // spread files over the data area so their runs do not interleave
        long data = vol.layout().dataBlocks();
        return vol.layout().dataStart() + (ino * 0x9E3779B97F4A7C15L >>> 1) % data;
    }

    /**
     * Converts unwritten blocks of {@code [from, to)} to written, at most {@code maxExtents}
     * extents per step (ext4_convert_unwritten_extents).
     *
     * @return where to continue and the blocks converted
     */
    public StepResult convertWritten(long from, long to, int maxExtents) {
        return convertState(from, to, false, maxExtents);
    }

    /** Like {@link #convertWritten} in either direction. */
    public StepResult convertState(long from, long to, boolean toUnwritten, int maxExtents) {
        extentStep();
        long upTo = stepEnd(from, to, maxExtents);
        unwritten();
        converting = !toUnwritten;
        try {
            long converted = tree.convertState(from, upTo, toUnwritten);
            this.unwritten += toUnwritten ? converted : -converted;
            return new StepResult(upTo, converted);
        } finally {
            converting = false;
        }
    }

    /** Where a step over {@code [from, to)} that touches at most {@code maxExtents} extents ends. */
    private long stepEnd(long from, long to, int maxExtents) {
        List<Extent> first = tree.extents(from, to, maxExtents + 1);
        return first.size() <= maxExtents ? to : Math.min(to, first.get(maxExtents - 1).end());
    }

    /** Whether any block of {@code [from, to)} is unwritten (so completion has a conversion to do). */
    public boolean anyUnwritten(long from, long to) {
        for (long pos = from; pos < to; ) {
            Mapping mapping = map(pos, to - pos);
            if (mapping.state() == Mapping.State.UNWRITTEN) {
                return true;
            }
            pos = mapping.end();
        }
        return false;
    }

    /**
     * Removes the extents of {@code [from, to)}, at most {@code maxExtents} per step, and frees
     * their blocks (ext4_ext_remove_space).
     *
     * @return where to continue
     */
    public long removeBlocks(Handle handle, long from, long to, int maxExtents) {
        extentStep();
        long upTo = stepEnd(from, to, maxExtents);
        unwritten();
        for (Extent removed : tree.replace(from, upTo, List.of())) {
            undo.freedRuns.add(new BlockAllocator.Run(removed.pblk(), removed.len()));
            blocks -= removed.len();
            unwritten -= removed.unwritten() ? removed.len() : 0;
        }
        return upTo;
    }

    /**
     * The extent tree's nodes: the running step's view of the whole tree, else the extent cache;
     * changed through the current handle, each changed block pinned in the cache until the journal
     * has written it home.
     */
    private final class Store implements ExtentNodeStore {
        @Override
        public byte[] node(long blk) {
            byte[] image = vol.extentCache().get(ino, blk);
            if (image == null) {
                throw new ExtentMissException(ino, List.of(new ExtentMissException.Want(blk, -1, -1)));
            }
            return image;
        }

        @Override
        public boolean resident(long blk) {
            return vol.extentCache().contains(blk);
        }

        @Override
        public byte[] modify(long blk) {
            byte[] image = node(blk);
            undo.saveImage(blk, image);
            pin(blk, image);
            return stepHandle.getWriteAccess(blk, image, tree::seal);
        }

        /** Once per step and block: the cache keeps the block until the checkpoint has written this image home. */
        private void pin(long blk, byte[] image) {
            if (undo.pinned.add(blk)) {
                vol.extentCache().pin(ino, blk, image);
                stepHandle.afterCheckpoint(() -> vol.extentCache().unpin(blk, image));
            }
        }

        @Override
        public long allocateNode(long goal) {
            BlockAllocator.Run run = converting ? vol.allocator().allocateNode(stepHandle, goal, ino)
                    : vol.allocator().allocate(stepHandle, goal, 1);
            if (run == null) {
                throw new NoSpaceException("no free block for an extent node of inode " + ino);
            }
            undo.newNodes.add(run.start());
            byte[] fresh = new byte[Layout.BLOCK_SIZE];
            pin(run.start(), fresh); // the cache holds it from now on
            blocks++;
            return run.start();
        }

        /** Given back when the step commits: an undone step still points to it. */
        @Override
        public void freeNode(long blk) {
            undo.freedNodes.add(blk);
            blocks--;
        }
    }
}
