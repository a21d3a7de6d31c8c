package dionode.node.alloc;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The allocator's in-memory map, one bit per block: set while the block may not be handed out
 * (allocated on the bitmap, metadata, or freed but not yet safe to reuse). A block is taken by
 * the one compare-and-set that turns its bit on, so two threads never take the same block.
 *
 * <p>Thread-safe, lock-free.
 */
final class InUseBits {

    private final AtomicLongArray words;
    /** Bits set by {@link #claim} so far: a scan that saw none set meanwhile saw every clear bit. */
    private final AtomicLong claims = new AtomicLong();

    /** A map whose block {@code b} is set when bit {@code b % 64} of {@code initial[b / 64]} is. */
    InUseBits(long[] initial) {
        words = new AtomicLongArray(initial);
    }

    boolean get(long blk) {
        return (words.get((int) (blk >>> 6)) & (1L << blk)) != 0;
    }

    /** Sets the bit; returns whether this call set it (false: it was set already). */
    boolean claim(long blk) {
        long mask = 1L << blk;
        if ((words.getAndAccumulate((int) (blk >>> 6), mask, (w, m) -> w | m) & mask) != 0) {
            return false;
        }
        claims.incrementAndGet();
        return true;
    }

    long claims() {
        return claims.get();
    }

    /** Clears the bit; returns whether this call cleared it (false: it was clear already). */
    boolean release(long blk) {
        long mask = 1L << blk;
        return (words.getAndAccumulate((int) (blk >>> 6), mask, (w, m) -> w & ~m) & mask) != 0;
    }

    /**
     * Claims the first clear bit in {@code [from, to)}; -1 if this pass found none (another thread
     * may have claimed what it saw clear, or cleared a bit behind it).
     */
    long claimFirst(long from, long to) {
        long blk = from;
        while (blk < to) {
            long clear = ~words.get((int) (blk >>> 6)) & (-1L << (blk & 63));
            if (clear == 0) {
                blk = (blk & ~63L) + 64;
                continue;
            }
            long hit = (blk & ~63L) + Long.numberOfTrailingZeros(clear);
            if (hit >= to) {
                return -1;
            }
            if (claim(hit)) {
                return hit;
            }
            blk = hit;
        }
        return -1;
    }
}
