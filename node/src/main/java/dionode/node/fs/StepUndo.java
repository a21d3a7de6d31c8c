package dionode.node.fs;

import dionode.node.alloc.BlockAllocator;
import dionode.node.meta.InodeRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one journaled step of an {@link Inode} changed, so that a step that fails part way can be
 * put back exactly as it was, and what it frees, so that nothing is given back before the step is
 * known to succeed. A jbd2 handle cannot be rolled back once blocks joined it, so the step keeps its
 * own undo: the inode's record, the images of the extent nodes before their first change, and the
 * blocks it allocated. Confined to the inode's owner, for the duration of one handle.
 */
final class StepUndo {
    final InodeRecord before;
    /** The inode's count of unwritten blocks before the step; -1 when it was not counted yet. */
    final long unwrittenBefore;
    /** The step changes only the inode's record, never its extents. */
    final boolean recordOnly;
    /** Node images before this step's first change of them. */
    final Map<Long, byte[]> images = new LinkedHashMap<>();
    final List<Long> newNodes = new ArrayList<>();
    final List<BlockAllocator.Run> newRuns = new ArrayList<>();
    /** Frees that happen when the step commits. */
    final List<Long> freedNodes = new ArrayList<>();
    final List<BlockAllocator.Run> freedRuns = new ArrayList<>();
    /** Extent blocks this step pinned in the cache (once each). */
    final Set<Long> pinned = new HashSet<>();

    StepUndo(InodeRecord before, long unwrittenBefore, boolean recordOnly) {
        this.before = before;
        this.unwrittenBefore = unwrittenBefore;
        this.recordOnly = recordOnly;
    }

    /** Keeps {@code image} as it is before its first change in this step (a node new in this step has no past). */
    void saveImage(long blk, byte[] image) {
        if (!images.containsKey(blk) && !newNodes.contains(blk)) {
            images.put(blk, image.clone());
        }
    }
}
