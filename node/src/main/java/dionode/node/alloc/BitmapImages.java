package dionode.node.alloc;

import dionode.node.meta.Layout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The live images of the on-device allocation bitmap (bit {@code b % 32736} of block
 * {@code b / 32736}: byte {@code bit / 8}, bit {@code bit % 8}; CRC32C in the last 4 bytes), with
 * every bit read and changed atomically: handles of several threads set and clear bits of one
 * bitmap block at once (ext4 takes the group's bitmap lock for this; a compare-and-set on the
 * 32-bit word holding the bit needs none). The word is read little-endian, so bit {@code bit % 32}
 * of word {@code bit / 32} is exactly byte {@code bit / 8}, bit {@code bit % 8}: the format does not
 * change.
 *
 * <p>Thread-safe, lock-free. The CRC word (bytes 4092..4095) is no bit's word: the journal's sealer
 * writes it at commit, when no handle is open, and never races a bit update.
 */
final class BitmapImages {

    /** int views of a byte[]: atomic access needs 4-aligned offsets, which every word offset is. */
    private static final VarHandle WORD = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final byte[][] images;

    BitmapImages(byte[][] images) {
        this.images = images;
    }

    /** The live image of bitmap block {@code map}, for the journal. */
    byte[] image(int map) {
        return images[map];
    }

    static int mapOf(long blk) {
        return (int) (blk / Layout.BITS_PER_BITMAP_BLOCK);
    }

    /** Whether the bitmap says {@code blk} is allocated. */
    boolean get(long blk) {
        int bit = (int) (blk % Layout.BITS_PER_BITMAP_BLOCK);
        return ((int) WORD.getAcquire(images[mapOf(blk)], (bit >>> 5) << 2) & (1 << (bit & 31))) != 0;
    }

    /** Sets {@code blk}'s bit to {@code used}; returns false, changing nothing, if it already was. */
    boolean set(long blk, boolean used) {
        byte[] image = images[mapOf(blk)];
        int bit = (int) (blk % Layout.BITS_PER_BITMAP_BLOCK);
        int offset = (bit >>> 5) << 2;
        int mask = 1 << (bit & 31);
        int before = used ? (int) WORD.getAndBitwiseOr(image, offset, mask)
                : (int) WORD.getAndBitwiseAnd(image, offset, ~mask);
        return ((before & mask) != 0) != used;
    }

    /** Single-threaded (mkfs): sets a bit of fresh images. */
    static void setPlain(byte[][] maps, long blk) {
        int bit = (int) (blk % Layout.BITS_PER_BITMAP_BLOCK);
        maps[mapOf(blk)][bit >>> 3] |= (byte) (1 << (bit & 7));
    }
}
