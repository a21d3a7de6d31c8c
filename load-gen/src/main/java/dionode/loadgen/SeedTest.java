package dionode.loadgen;

/**
 * The seed's two benchmarks (cover letter "Performance", anchors/kernel-6.18-fio): the layout each
 * needs and the writes each job issues. Offsets are pure functions of (region start, index), so the
 * generators are testable without a node. Immutable.
 *
 * <pre>
 * Test 1  4 KiB blocks  |W|U|W|U|W|U|...      writes: 8192 bytes at regionStart + 8192*i
 * Test 2  16 KiB stripe |W|U|U|W|W|U|U|W|...  writes: 14336 bytes at regionStart + 16384*i + 512
 * </pre>
 */
public enum SeedTest {
    TEST1(1, 8192, 8192, 0,
            "aligned 8K DIO writes spanning written+unwritten extent boundaries (4K blocks alternating written/unwritten)"),
    TEST2(2, 14336, 16384, 512,
            "unaligned DIO writes (14336 bytes at +512 within each 16K stripe laid out [written][unwritten][unwritten][written])");

    public static final int BLOCK = 4096;

    private final int number;
    private final int writeBytes;
    private final int stride;
    private final int headOffset;
    private final String description;

    SeedTest(int number, int writeBytes, int stride, int headOffset, String description) {
        this.number = number;
        this.writeBytes = writeBytes;
        this.stride = stride;
        this.headOffset = headOffset;
        this.description = description;
    }

    public int number() {
        return number;
    }

    /** Bytes per write. */
    public int writeBytes() {
        return writeBytes;
    }

    /** Distance between a job's consecutive writes (one write per stride: every block written once). */
    public int stride() {
        return stride;
    }

    public String description() {
        return description;
    }

    public static SeedTest of(int number) {
        for (SeedTest t : values()) {
            if (t.number == number) {
                return t;
            }
        }
        throw new IllegalArgumentException("no test " + number + " (1 or 2)");
    }

    /** Writes a job makes before it reaches the end of a region of {@code regionBytes}. */
    public long writesPerRegion(long regionBytes) {
        checkRegion(regionBytes);
        return regionBytes / stride;
    }

    /** Offset of write {@code i} (0-based) of the job whose region starts at {@code regionStart}. */
    public long offset(long regionStart, long i) {
        return regionStart + (long) stride * i + headOffset;
    }

    /** Whether 4 KiB block {@code block} of the file is unwritten in this test's layout. */
    public boolean unwrittenBlock(long block) {
        return this == TEST1 ? (block & 1) == 1 : (block & 3) == 1 || (block & 3) == 2;
    }

    /**
     * The layout writes for a file of {@code fileBytes} (a multiple of the stride): written blocks as
     * few aligned requests as possible (Test 2: block 3 of a stripe and block 0 of the next are
     * adjacent, so one 8 KiB write covers both). Each element is {offset, length}.
     */
    public long[][] layoutWrites(long fileBytes) {
        checkRegion(fileBytes);
        long blocks = fileBytes / BLOCK;
        java.util.List<long[]> out = new java.util.ArrayList<>();
        long b = 0;
        while (b < blocks) {
            if (unwrittenBlock(b)) {
                b++;
                continue;
            }
            long e = b;
            while (e < blocks && !unwrittenBlock(e)) {
                e++;
            }
            out.add(new long[] {b * BLOCK, (e - b) * BLOCK});
            b = e;
        }
        return out.toArray(new long[0][]);
    }

    /** Largest layout write, in bytes. */
    public int maxLayoutWrite() {
        return this == TEST1 ? BLOCK : 2 * BLOCK;
    }

    private void checkRegion(long bytes) {
        if (bytes <= 0 || bytes % stride != 0) {
            throw new IllegalArgumentException("region of " + bytes + " bytes is not a positive multiple of " + stride);
        }
    }
}
