package dionode.node.nbd;

import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.List;

/**
 * A byte range of an export as the {@code base:allocation} context sees it, from the node's fiemap
 * extents alone (no data is read): no extent is a hole ({@code HOLE|ZERO}), an unwritten extent
 * reads as zeros ({@code ZERO}), a written one is data (0). Adjacent extents in the same state are
 * one run whether or not they are physically contiguous (fiemap merges only those that are). Block
 * status replies and structured reads are both built from these runs. Stateless.
 */
final class AllocationMap {
    static final int HOLE = Nbd.STATE_HOLE | Nbd.STATE_ZERO;
    static final int UNWRITTEN = Nbd.STATE_ZERO;
    static final int DATA = 0;
    /**
     * The node answers a fiemap with at most 16384 extents (a page; {@code InodeStat}), and a range
     * of this many blocks or fewer overlaps at most one more extent than that, so its answer is
     * always whole: a gap after the last extent returned is really a hole. Block status asks for at
     * most this window, a READ (at most 32 MiB: 8192 blocks of 4 KiB) never more.
     */
    static final int WINDOW_BLOCKS = 4096;
    /** Heap a fiemap extent takes in the node while its reply is built and mapped (record, list slot). */
    static final int EXTENT_HEAP_BYTES = 64;

    /** {@code length} bytes from {@code offset} in one state. */
    record Run(long offset, long length, int state) {
        long end() {
            return offset + length;
        }
    }

    private AllocationMap() {
    }

    /**
     * Runs covering {@code [from, to)} exactly, in order, each in a state different from the one
     * before. {@code extents} must be every extent overlapping the range, in logical order (a whole
     * fiemap answer), unclipped.
     */
    static List<Run> runs(List<Reply.FiemapExtent> extents, long from, long to) {
        List<Run> runs = new ArrayList<>();
        long at = from;
        for (Reply.FiemapExtent e : extents) {
            long start = Math.max(at, e.logical());
            long end = Math.min(to, e.logical() + e.length());
            if (end <= start) {
                continue;
            }
            if (start > at) {
                add(runs, at, start - at, HOLE);
            }
            add(runs, start, end - start, e.unwritten() ? UNWRITTEN : DATA);
            at = end;
        }
        if (at < to) {
            add(runs, at, to - at, HOLE);
        }
        return runs;
    }

    private static void add(List<Run> runs, long offset, long length, int state) {
        Run last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
        if (last != null && last.state() == state && last.end() == offset) {
            runs.set(runs.size() - 1, new Run(last.offset(), last.length() + length, state));
        } else {
            runs.add(new Run(offset, length, state));
        }
    }

    /** Bytes a fiemap over {@code length} bytes may hold in the node: one extent per block it touches. */
    static long fiemapHeapBound(long length, int blockSize) {
        return EXTENT_HEAP_BYTES * (length / blockSize + 2);
    }
}
