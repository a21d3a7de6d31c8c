package dionode.node.fs;

import dionode.node.alloc.BlockAllocator;
import dionode.node.extent.Extent;
import dionode.node.extent.ExtentFormat;
import dionode.node.extent.ExtentNodeStore;
import dionode.node.extent.ExtentTree;
import dionode.node.extent.Mapping;
import dionode.node.journal.Handle;
import dionode.node.meta.InodeRecord;
import dionode.protocol.LockPolicy;
import java.util.List;
import java.util.Map;

/**
 * One file's metadata in memory (the fields of its inode record and its extent tree) and the
 * journaled steps that change it. Every step does bounded work inside one handle and returns
 * where to continue, so large truncates, punches and conversions are split over transactions the
 * way ext4 restarts its handles. Confined to its owner: the inode actor, or mount-time recovery.
 */
public final class Inode {
    /** Largest byte size a file can reach: 2^32 logical blocks, like ext4's s_maxbytes for extents. */
    public static final long MAX_BYTES = (ExtentFormat.MAX_LBLK + 1) * 4096 - 4096;

    private final Volume vol;
    private final long ino;
    private final ExtentTree tree;
    private final Store store = new Store();
    private Handle handle;
    /** The running step's undo log; null outside a step. */
    private StepUndo step;
    /** Unwritten blocks, counted on first use and then kept; -1 until counted. */
    private long unwritten = -1;
    /** The running step converts to written: its node allocations may use the reservation. */
    private boolean converting;

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

    Inode(Volume vol, InodeRecord r) {
        this.vol = vol;
        this.ino = r.ino();
        this.tree = new ExtentTree(ino, r.root().clone(), store);
        this.flags = r.flags();
        this.mode = r.mode();
        this.generation = r.generation();
        this.policy = r.policy();
        this.size = r.size();
        this.disksize = r.disksize();
        this.blocks = r.blocks();
        this.mtimeNanos = r.mtimeNanos();
        this.ctimeNanos = r.ctimeNanos();
        this.crtimeNanos = r.crtimeNanos();
        this.name = r.name();
    }

    public long ino() {
        return ino;
    }

    public ExtentTree tree() {
        return tree;
    }

    public Mapping map(long lblk, long maxLen) {
        return tree.map(lblk, maxLen);
    }

    public InodeRecord record() {
        return new InodeRecord(ino, flags, mode, generation, policy, size, disksize, blocks, mtimeNanos, ctimeNanos,
                crtimeNanos, tree.root().clone(), name);
    }

    /** IS_NOSEC: nothing for file_remove_privs to clear. */
    public boolean nosec() {
        return (mode & (InodeRecord.S_ISUID | InodeRecord.S_ISGID)) == 0;
    }

    public boolean orphan() {
        return (flags & InodeRecord.FLAG_ORPHAN) != 0;
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
        int n = 1;
        while (n < 64 && stepCredits(n * 2) <= max / 2) {
            n *= 2;
        }
        return n;
    }

    /** Starts a handle for this inode's next step; null when the journal has no room now. */
    public Handle begin(int credits) {
        Handle h = vol.journal().tryStart(Math.min(credits, vol.journal().maxTxnBlocks()));
        handle = h;
        step = h == null ? null : new StepUndo(record(), unwritten());
        return h;
    }

    /**
     * Ends the step: sets the inode's node reservation to what its unwritten blocks may still need,
     * gives back what the step freed, logs the inode record and ends the handle. A step that
     * promised more unwritten space than the reservation can cover is undone instead.
     *
     * @throws NoSpaceException when the step was undone for want of blocks to reserve
     */
    public void commitStep(Handle h) {
        StepUndo s = step;
        long need;
        try {
            need = tree.conversionReserve(unwritten());
        } catch (RuntimeException e) {
            abortStep(h);
            throw e;
        }
        boolean promised = s != null && unwritten > s.unwrittenBefore;
        if (!vol.allocator().reserve(ino, need, !promised)) {
            abortStep(h);
            throw new NoSpaceException("no free block to reserve " + need + " extent-node blocks for the unwritten blocks of inode "
                    + ino);
        }
        try {
            if (s != null) {
                for (long blk : s.freedNodes) {
                    vol.allocator().freeMeta(h, blk);
                    vol.nodes().remove(blk);
                }
                for (BlockAllocator.Run r : s.freedRuns) {
                    vol.allocator().free(h, r);
                }
            }
            vol.inodes().write(h, record());
        } finally {
            handle = null;
            step = null;
            h.close();
        }
    }

    /**
     * Ends a step that failed part way, putting the extent tree, the inode's fields and the
     * allocator back as they were before it. Nodes the step allocated go back like freed nodes (after
     * a checkpoint: the running transaction holds their images), its data blocks at once.
     */
    public void abortStep(Handle h) {
        StepUndo s = step;
        try {
            if (s != null) {
                for (Map.Entry<Long, byte[]> e : s.images.entrySet()) {
                    byte[] live = vol.nodes().get(e.getKey());
                    System.arraycopy(e.getValue(), 0, live, 0, live.length);
                }
                for (long blk : s.newNodes) {
                    vol.allocator().freeMeta(h, blk);
                    vol.nodes().remove(blk);
                }
                for (int i = s.newRuns.size() - 1; i >= 0; i--) {
                    vol.allocator().unallocate(h, s.newRuns.get(i));
                }
                restore(s.before);
                unwritten = s.unwrittenBefore;
                tree.forgetShape();
            }
        } finally {
            handle = null;
            step = null;
            h.close();
        }
    }

    private void restore(InodeRecord r) {
        System.arraycopy(r.root(), 0, tree.root(), 0, ExtentFormat.ROOT_BYTES);
        flags = r.flags();
        mode = r.mode();
        generation = r.generation();
        policy = r.policy();
        size = r.size();
        disksize = r.disksize();
        blocks = r.blocks();
        mtimeNanos = r.mtimeNanos();
        ctimeNanos = r.ctimeNanos();
        crtimeNanos = r.crtimeNanos();
        name = r.name();
    }

    /** Unwritten blocks of the file. */
    public long unwritten() {
        if (unwritten < 0) {
            long[] n = {0};
            tree.forEach(0, ExtentFormat.MAX_LBLK + 1, e -> n[0] += e.unwritten() ? e.len() : 0);
            unwritten = n[0];
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
            Mapping m = tree.map(pos, to - pos);
            if (!m.allocated()) {
                holes += m.len();
            }
            pos = m.end();
        }
        return holes;
    }

    /**
     * Allocates the holes of {@code [from, to)} as unwritten extents, contiguous where possible
     * (ext4_ext_find_goal: next to the extent before). At most {@code maxRuns} runs.
     *
     * @return where to continue ({@code to} when done) and how many blocks were allocated
     * @throws NoSpaceException when the device has no free block
     */
    public StepResult allocateUnwritten(Handle h, long from, long to, int maxRuns) {
        long pos = from;
        long allocated = 0;
        int runs = 0;
        while (pos < to && runs < maxRuns) {
            Mapping m = tree.map(pos, to - pos);
            if (m.allocated()) {
                pos = m.end();
                continue;
            }
            BlockAllocator.Run r = vol.allocator().allocate(h, goal(pos), Math.min(m.len(), Extent.MAX_UNWRITTEN_LEN));
            if (r == null) {
                throw new NoSpaceException("no free block for inode " + ino);
            }
            step.newRuns.add(r);
            tree.replace(pos, pos + r.len(), List.of(new Extent(pos, (int) r.len(), r.start(), true)));
            blocks += r.len();
            unwritten += r.len();
            allocated += r.len();
            pos += r.len();
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
     * @return where to continue and how many blocks were converted
     */
    public StepResult convertWritten(long from, long to, int maxExtents) {
        return convertState(from, to, false, maxExtents);
    }

    /** Like {@link #convertWritten} in either direction. */
    public StepResult convertState(long from, long to, boolean toUnwritten, int maxExtents) {
        List<Extent> first = tree.extents(from, to, maxExtents + 1);
        long upTo = first.size() <= maxExtents ? to : Math.min(to, first.get(maxExtents - 1).end());
        unwritten();
        converting = !toUnwritten;
        long converted;
        try {
            converted = tree.convertState(from, upTo, toUnwritten);
            this.unwritten += toUnwritten ? converted : -converted;
        } finally {
            converting = false;
        }
        return new StepResult(upTo, converted);
    }

    /** Whether any block of {@code [from, to)} is unwritten (so completion has a conversion to do). */
    public boolean anyUnwritten(long from, long to) {
        for (long pos = from; pos < to; ) {
            Mapping m = tree.map(pos, to - pos);
            if (m.state() == Mapping.State.UNWRITTEN) {
                return true;
            }
            pos = m.end();
        }
        return false;
    }

    /**
     * Removes the extents of {@code [from, to)}, at most {@code maxExtents} per step, and frees
     * their blocks (ext4_ext_remove_space).
     *
     * @return where to continue
     */
    public long removeBlocks(Handle h, long from, long to, int maxExtents) {
        List<Extent> first = tree.extents(from, to, maxExtents + 1);
        long upTo = first.size() <= maxExtents ? to : Math.min(to, first.get(maxExtents - 1).end());
        unwritten();
        for (Extent e : tree.replace(from, upTo, List.of())) {
            step.freedRuns.add(new BlockAllocator.Run(e.pblk(), e.len()));
            blocks -= e.len();
            unwritten -= e.unwritten() ? e.len() : 0;
        }
        return upTo;
    }

    /** The extent tree's nodes, journaled through the current handle. */
    private final class Store implements ExtentNodeStore {
        @Override
        public byte[] node(long blk) {
            byte[] b = vol.nodes().get(blk);
            if (b == null) {
                throw new dionode.node.extent.ExtentCorruptionException("inode " + ino + ": extent node " + blk + " not loaded");
            }
            return b;
        }

        @Override
        public byte[] modify(long blk) {
            byte[] image = node(blk);
            step.saveImage(blk, image);
            return handle.getWriteAccess(blk, image, (home, img) -> ExtentFormat.seal(ino, home, img));
        }

        @Override
        public long allocateNode(long goal) {
            BlockAllocator.Run r = converting ? vol.allocator().allocateNode(handle, goal, ino)
                    : vol.allocator().allocate(handle, goal, 1);
            if (r == null) {
                throw new NoSpaceException("no free block for an extent node of inode " + ino);
            }
            step.newNodes.add(r.start());
            vol.nodes().put(r.start(), new byte[ExtentFormat.BLOCK_SIZE]);
            blocks++;
            return r.start();
        }

        /** Given back when the step commits: an undone step still points to it. */
        @Override
        public void freeNode(long blk) {
            step.freedNodes.add(blk);
            blocks--;
        }
    }
}
