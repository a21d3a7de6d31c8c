package dionode.node.fs;

import dionode.node.alloc.BlockAllocator;
import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.journal.Journal;
import dionode.node.meta.InodeTable;
import dionode.node.meta.Layout;
import dionode.node.meta.Superblock;
import dionode.protocol.LockPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * mkfs: writes a fresh, empty dionode file system on a device: an empty journal, a table of free
 * inode records, bitmaps with every metadata block in use, and, after a flush, the superblock.
 * Blocking I/O; stateless, thread-safe.
 */
public final class Mkfs {
    private static final Logger LOG = LoggerFactory.getLogger(Mkfs.class);

    private Mkfs() {
    }

    /** Formats {@code dev}; {@code inodes} 0 = scale with size. Returns the superblock written. */
    public static Superblock format(BlockDevice dev, long inodes, LockPolicy defaultPolicy, Clock clock) throws IOException {
        Layout layout = Layout.forDevice(dev.size(), inodes);
        Journal.format(dev, layout.journalStart(), layout.journalBlocks());
        for (long i = 0; i < layout.inodeTableBlocks(); i += BlockIO.BATCH_BLOCKS) {
            int batch = (int) Math.min(BlockIO.BATCH_BLOCKS, layout.inodeTableBlocks() - i);
            ByteBuffer buf = AlignedBuffers.allocateAligned(batch * Layout.BLOCK_SIZE);
            for (int k = 0; k < batch; k++) {
                buf.put(InodeTable.emptyBlock(layout, i + k));
            }
            buf.flip();
            dev.write((layout.inodeTableStart() + i) * Layout.BLOCK_SIZE, buf);
        }
        byte[][] maps = BlockAllocator.initialBitmaps(layout);
        for (int i = 0; i < maps.length; i++) {
            BlockIO.writeBlock(dev, layout.bitmapStart() + i, maps[i]);
        }
        dev.flush();
        Superblock sb = Superblock.fresh(dev.sectorSize(), layout, clock.millis(), defaultPolicy);
        BlockIO.writeBlock(dev, 0, sb.encode());
        dev.flush();
        LOG.info("formatted {}: {} blocks, {} inodes, journal {} blocks, data from block {}", dev.path(), layout.totalBlocks(),
                layout.inodeCount(), layout.journalBlocks(), layout.dataStart());
        return sb;
    }
}
