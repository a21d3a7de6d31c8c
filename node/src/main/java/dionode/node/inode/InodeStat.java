package dionode.node.inode;

import static dionode.node.inode.InodeState.B;

import dionode.node.extent.Extent;
import dionode.node.extent.ExtentFormat;
import dionode.node.fs.Inode;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * stat and FS_IOC_FIEMAP: what a file's metadata and extent tree say, as replies. Pure functions
 * of the inode they are given, like {@link dionode.node.lock.DioWriteChecks}; they read an
 * {@link Inode}, so they run where it is confined (its actor). Stateless.
 */
final class InodeStat {
    /** At most this many extents per FIEMAP reply (about a page of them). */
    static final int MAX_FIEMAP_EXTENTS = 16384;

    private InodeStat() {
    }

    /** @throws dionode.node.extent.ExtentMissException naming the extent blocks to read first */
    static Reply.FileStat stat(Inode inode) {
        inode.requireWholeTree();
        LayoutCount layout = new LayoutCount();
        inode.tree().forEach(0, ExtentFormat.MAX_LBLK + 1, layout);
        return new Reply.FileStat(inode.handle(), inode.name, inode.size, inode.disksize, inode.blocks,
                B, inode.mode, inode.policy, inode.mtimeNanos, inode.ctimeNanos, layout.layout(), inode.dax(), inode.ownerName(),
                inode.indirect() ? "indirect" : "extents", inode.volumeId());
    }

    /** Extents in bytes, contiguous same-state extents merged, at most {@link #MAX_FIEMAP_EXTENTS} per reply. */
    static Reply fiemap(Inode inode, long offset, long length) {
        if (offset < 0 || length < 0) {
            return new Reply.Error(Errno.EINVAL, "negative offset or length");
        }
        long from = offset / B;
        long to = length == 0 ? ExtentFormat.MAX_LBLK + 1 : Math.min(ExtentFormat.MAX_LBLK + 1, (offset + length + B - 1) / B);
        List<Extent> stored = inode.tree().extents(from, to, MAX_FIEMAP_EXTENTS * 2);
        List<Reply.FiemapExtent> out = new ArrayList<>();
        Extent current = null;
        long currentLen = 0;
        int i = 0;
        for (; i < stored.size() && out.size() < MAX_FIEMAP_EXTENTS; i++) {
            Extent e = stored.get(i);
            if (current != null && current.lblk() + currentLen == e.lblk() && current.pblk() + currentLen == e.pblk()
                    && current.unwritten() == e.unwritten()) {
                currentLen += e.len();
                continue;
            }
            if (current != null) {
                out.add(fiemapExtent(current, currentLen, false));
            }
            current = e;
            currentLen = e.len();
        }
        if (current != null && out.size() < MAX_FIEMAP_EXTENTS) {
            boolean last = i == stored.size()
                    && inode.tree().extents(current.lblk() + currentLen, ExtentFormat.MAX_LBLK + 1, 1).isEmpty();
            out.add(fiemapExtent(current, currentLen, last));
        }
        return new Reply.FiemapReply(out);
    }

    private static Reply.FiemapExtent fiemapExtent(Extent extent, long len, boolean last) {
        int flags = (extent.unwritten() ? Reply.FiemapExtent.UNWRITTEN : 0) | (last ? Reply.FiemapExtent.LAST : 0);
        return new Reply.FiemapExtent(extent.lblk() * B, extent.pblk() * B, len * B, flags);
    }

    /** Counts extents and their written and unwritten blocks during one walk of the tree. */
    private static final class LayoutCount implements Consumer<Extent> {
        private long extents;
        private long written;
        private long unwritten;

        @Override
        public void accept(Extent extent) {
            extents++;
            if (extent.unwritten()) {
                unwritten += extent.len();
            } else {
                written += extent.len();
            }
        }

        Reply.Layout layout() {
            return new Reply.Layout(extents, written, unwritten);
        }
    }
}
