package dionode.loadgen;

import java.util.SplittableRandom;

/**
 * Where one job's requests go, one offset per call. Confined to its job's thread.
 */
public interface OffsetSource {
    /** The next offset, or -1 when the job has reached the end of its region (it stops). */
    long next();

    /** A seed test's writes through one job's region, sequentially, each stride once, never past the end. */
    static OffsetSource seed(SeedTest test, long regionStart, long regionBytes) {
        long n = test.writesPerRegion(regionBytes);
        return new OffsetSource() {
            private long i;

            @Override
            public long next() {
                return i < n ? test.offset(regionStart, i++) : -1;
            }
        };
    }

    /**
     * Requests of {@code bs} bytes at {@code regionStart + k*stride + alignOffset}, for every slot k
     * whose request lies wholly in the region; sequential (wrapping at the end) or uniformly random.
     */
    static OffsetSource slots(long regionStart, long regionBytes, int stride, int bs, int alignOffset, boolean random, long seed) {
        if (stride < bs) {
            throw new IllegalArgumentException("stride " + stride + " < request size " + bs);
        }
        long n = regionBytes < alignOffset + bs ? 0 : (regionBytes - alignOffset - bs) / stride + 1;
        if (n <= 0) {
            throw new IllegalArgumentException("a region of " + regionBytes + " bytes holds no " + bs + "-byte request at +"
                    + alignOffset);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        return new OffsetSource() {
            private long k;

            @Override
            public long next() {
                long slot = random ? rnd.nextLong(n) : k++ % n;
                return regionStart + slot * stride + alignOffset;
            }
        };
    }
}
