package dionode.node.fs;

import dionode.node.extent.ExtentFormat;
import dionode.node.journal.Handle;
import dionode.node.journal.Journal;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.InodeTable;
import dionode.node.meta.Layout;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ext4_orphan_cleanup at mount: finishes what a crash interrupted on the files of the orphan list.
 * An extending write or truncate gets its blocks past i_disksize freed and its size set back to
 * i_disksize; an unlinked file loses every block and then its inode slot. Runs once, on the
 * mounting thread of a read-write mount, before anything is served: it may wait for commits.
 */
final class OrphanCleanup {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanCleanup.class);

    private final Volume volume;
    private final Layout layout;
    private final InodeTable inodes;
    private final Journal journal;

    OrphanCleanup(Volume volume) {
        this.volume = volume;
        this.layout = volume.layout();
        this.inodes = volume.inodes();
        this.journal = volume.journal();
    }

    /** Processes every good inode on the orphan list, then commits. */
    void run() throws IOException {
        List<Long> orphans = new ArrayList<>();
        for (long ino = 1; ino <= layout.inodeCount(); ino++) {
            InodeRecord record = volume.badReason(ino) != null ? null : volume.recordOrNull(ino);
            if (record != null && record.orphan()) {
                orphans.add(ino);
            }
        }
        for (long ino : orphans) {
            volume.extentCache().busy(ino, true);
            try {
                clean(volume.open(ino));
            } finally {
                volume.extentCache().busy(ino, false);
            }
        }
        if (!orphans.isEmpty()) {
            journal.commit().join();
        }
    }

    /** One orphan, its whole extent tree read first (kept in the cache while this runs: the file is busy). */
    private void clean(Inode inode) throws IOException {
        long ino = inode.ino();
        volume.loadTreeBlocking(inode);
        if ((inode.flags & InodeRecord.FLAG_UNLINKED) != 0) {
            truncateBlocks(inode, 0);
            try (Handle handle = startBlocking(inode, inode.stepCredits(0))) {
                inodes.clear(handle, ino);
            }
            inodes.release(ino);
            LOG.info("orphan inode {}: unlinked file removed", ino);
        } else {
            long keep = (inode.disksize + layout.blockSize() - 1) / layout.blockSize();
            truncateBlocks(inode, keep);
            inode.size = inode.disksize;
            inode.flags &= ~InodeRecord.FLAG_ORPHAN;
            Handle handle = startBlocking(inode, inode.stepCredits(0));
            inode.commitStep(handle);
            LOG.info("orphan inode {}: blocks past i_disksize {} freed", ino, inode.disksize);
        }
    }

    private void truncateBlocks(Inode inode, long fromLblk) {
        ExtentSteps.runBlocking(inode, ExtentSteps.Kind.REMOVE, fromLblk, ExtentFormat.MAX_LBLK + 1,
                credits -> startBlocking(inode, credits));
    }

    /**
     * A handle for {@code inode}'s next step (attached to it, so its extent tree can journal node
     * blocks), waiting for a commit when the journal is full: for mount-time work only.
     */
    private Handle startBlocking(Inode inode, int credits) {
        while (true) {
            Handle handle = inode.begin(credits);
            if (handle != null) {
                return handle;
            }
            journal.commit().join();
        }
    }
}
