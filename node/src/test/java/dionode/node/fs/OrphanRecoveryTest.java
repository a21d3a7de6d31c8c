package dionode.node.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.node.device.BlockDevice;
import dionode.node.extent.Extent;
import dionode.node.journal.Handle;
import dionode.node.journal.JournalOptions;
import dionode.node.meta.InodeRecord;
import dionode.protocol.LockPolicy;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mount-time orphan processing (ext4_orphan_cleanup) on files whose extent tree has spilled into
 * extent blocks: the steps that free blocks past i_disksize must journal those blocks like any
 * other step. Found by the crash loop: mount failed with a NullPointerException (no handle
 * attached to the inode) and the device could not be served again.
 */
@Timeout(60)
class OrphanRecoveryTest {
    private Path device;

    @BeforeEach
    void format() throws Exception {
        device = Fixture.formattedDevice("orphan", 32 * Fixture.MIB);
    }

    @AfterEach
    void remove() {
        Fixture.deleteQuietly(device);
    }

    /** Leaves, after a clean unmount, an inode on the orphan list with {@code extents} one-block extents. */
    private long orphanWithExtents(int extents, boolean unlinked) throws Exception {
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), false);
            long ino = v.inodes().allocate();
            Inode inode;
            try (Handle h = v.journal().tryStart(1)) {
                inode = v.create(h, ino, "orphan", 0644, LockPolicy.ZEROING_AWARE);
            }
            for (int i = 0; i < extents; i++) {
                Handle h = inode.begin(inode.stepCredits(1));
                // every other block: neither logically nor physically contiguous, nothing merges
                inode.allocateUnwritten(h, 2L * i, 2L * i + 1, 1, false);
                inode.commitStep(h);
            }
            Handle h = inode.begin(inode.stepCredits(1));
            inode.convertWritten(0, 1, 1);
            inode.size = 4096;
            inode.disksize = 4096;
            inode.flags |= InodeRecord.FLAG_ORPHAN | (unlinked ? InodeRecord.FLAG_UNLINKED : 0);
            inode.commitStep(h);
            assertTrue(inode.tree().depth() >= 1, "the tree spilled into extent blocks");
            v.close();
            return ino;
        }
    }

    @Test
    void extendingWriteOrphanWithExtentBlocksIsTrimmedAtMount() throws Exception {
        long ino = orphanWithExtents(400, false);
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), false);
            Inode inode = v.open(ino);
            assertFalse(inode.orphan());
            List<Extent> left = inode.tree().extents(0, Long.MAX_VALUE >>> 20);
            assertEquals(1, left.size(), "only the block below i_disksize is kept: " + left);
            assertEquals(1, inode.blocks);
            v.close();
        }
        assertEquals(List.of(), Fixture.fsck(device));
    }

    @Test
    void unlinkedOrphanWithExtentBlocksIsRemovedAtMount() throws Exception {
        long ino = orphanWithExtents(400, true);
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), false);
            assertTrue(v.names().isEmpty());
            assertEquals(null, v.inodes().read(ino));
            v.close();
        }
        assertEquals(List.of(), Fixture.fsck(device));
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), true);
            assertEquals(v.layout().dataBlocks(), v.allocator().freeBlocks(), "every block given back");
        }
    }
}
