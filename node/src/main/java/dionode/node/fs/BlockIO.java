package dionode.node.fs;

import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.meta.Layout;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Whole fs blocks to and from the device, through aligned direct buffers: what mkfs, mount and
 * the superblock's state changes read and write outside the journal. Blocking I/O, for mount,
 * unmount and mkfs only, never for an actor. Stateless; thread-safe.
 */
final class BlockIO {
    /** Blocks per device request when many are read or written in a row. */
    static final int BATCH_BLOCKS = 256;

    private BlockIO() {
    }

    static byte[] readBlock(BlockDevice dev, long blk) throws IOException {
        return readBlocks(dev, blk, 1)[0];
    }

    static byte[][] readBlocks(BlockDevice dev, long first, int count) throws IOException {
        byte[][] out = new byte[count][];
        for (int i = 0; i < count; i += BATCH_BLOCKS) {
            int batch = Math.min(BATCH_BLOCKS, count - i);
            ByteBuffer buf = AlignedBuffers.allocateAligned(batch * Layout.BLOCK_SIZE);
            buf.limit(batch * Layout.BLOCK_SIZE);
            dev.read((first + i) * Layout.BLOCK_SIZE, buf);
            for (int k = 0; k < batch; k++) {
                out[i + k] = new byte[Layout.BLOCK_SIZE];
                buf.get(k * Layout.BLOCK_SIZE, out[i + k]);
            }
        }
        return out;
    }

    static void writeBlock(BlockDevice dev, long blk, byte[] image) throws IOException {
        ByteBuffer buf = AlignedBuffers.allocateAligned(Layout.BLOCK_SIZE);
        buf.put(image).flip();
        dev.write(blk * Layout.BLOCK_SIZE, buf);
    }
}
