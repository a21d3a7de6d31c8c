package dionode.node.fs;

import dionode.node.device.BlockDevice;
import dionode.node.extent.ExtentMissException;
import dionode.node.extent.ExtentNodeStore;
import dionode.node.extent.IndirectMap;
import dionode.node.meta.Bytes;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.Layout;
import dionode.node.meta.MetadataCorruptException;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Mount's and fsck's loading of a no-extent file's block map (ext4_ind's pointer blocks): read
 * level by level, each block checked before the blocks it names are read. Stateless; runs on
 * the mounting thread.
 */
final class IndirectCheck {

    private IndirectCheck() {
    }

    /**
     * The file's map with every pointer block read and checked into {@code nodes} (and the
     * cache); for a serving mount ({@code !full}) of a file with indirect blocks, only the root's
     * pointers are checked and null is returned: the blocks are checked as lookups read them.
     *
     * @throws MetadataCorruptException for a pointer outside the data area or a block named by two files
     */
    static IndirectMap load(InodeRecord record, boolean full, Layout layout, BlockDevice dev, Map<Long, byte[]> nodes,
            ExtentNodeStore loaded, ExtentCache cache) throws IOException, MetadataCorruptException {
        long ino = record.ino();
        byte[] root = record.root();
        boolean deep = false;
        for (int slot = IndirectMap.DIRECT; slot < InodeRecord.ROOT_BYTES / 4; slot++) {
            long blk = Bytes.i32(root, slot * 4) & 0xFFFF_FFFFL;
            if (blk != 0 && !layout.inDataArea(blk, 1)) {
                throw new MetadataCorruptException("inode " + ino + ": indirect pointer " + (slot - IndirectMap.DIRECT + 1)
                        + " names block " + blk + ", outside the data area");
            }
            deep |= blk != 0;
        }
        if (deep && !full) {
            return null;
        }
        IndirectMap map = new IndirectMap(ino, root.clone(), loaded);
        List<ExtentMissException.Want> wants;
        while (!(wants = map.missing()).isEmpty()) {
            for (ExtentMissException.Want want : wants) {
                if (!layout.inDataArea(want.blk(), 1)) {
                    throw new MetadataCorruptException("inode " + ino + ": indirect block pointer " + want.blk()
                            + " outside the data area");
                }
                if (nodes.containsKey(want.blk())) {
                    throw new MetadataCorruptException("inode " + ino + ": indirect block " + want.blk() + " referenced twice");
                }
                byte[] image = BlockIO.readBlock(dev, want.blk());
                map.checkBlock(want, image, layout::inDataArea);
                nodes.put(want.blk(), image);
                cache.add(ino, want.blk(), image);
            }
        }
        return map;
    }
}
