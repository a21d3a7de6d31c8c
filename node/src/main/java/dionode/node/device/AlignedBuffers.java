package dionode.node.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pool of direct buffers whose first byte is 4096-aligned, as O_DIRECT needs,
 * in power-of-two size classes from 4 KiB to 16 MiB.
 *
 * <p>Direct memory is slow to allocate and is freed only by GC, so buffers are
 * reused. Retention is bounded both per class and in total bytes; a buffer
 * released beyond either bound is dropped for the GC, so memory stays bounded
 * and {@link #release} never waits. {@link #acquire} never waits either: an
 * empty class allocates.
 *
 * <p>Only the exact object returned by {@link #acquire} may be released, once.
 * A foreign buffer, a duplicate or slice, or a second release throws
 * {@link IllegalArgumentException} instead of letting two users share memory.
 *
 * <p>Thread-safe and non-blocking.
 */
public final class AlignedBuffers {
    /** Alignment of every buffer's first byte. */
    public static final int ALIGNMENT = 4096;
    /** Smallest size class. */
    public static final int MIN_CLASS_BYTES = 4096;
    /** Largest size class, and the largest {@link #acquire} request. */
    public static final int MAX_CLASS_BYTES = 16 << 20;
    public static final int DEFAULT_MAX_RETAINED_PER_CLASS = 64;
    public static final long DEFAULT_MAX_RETAINED_BYTES = 256L << 20;

    private static final int MIN_SHIFT = Integer.numberOfTrailingZeros(MIN_CLASS_BYTES);
    private static final int CLASSES = Integer.numberOfTrailingZeros(MAX_CLASS_BYTES) - MIN_SHIFT + 1;

    private final int maxRetainedPerClass;
    private final long maxRetainedBytes;
    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedDeque<Slot>[] free = new ConcurrentLinkedDeque[CLASSES];
    private final AtomicInteger[] freeCount = new AtomicInteger[CLASSES];
    /** Every buffer this pool owns (handed out or retained), by address of its first byte. */
    private final ConcurrentHashMap<Long, Slot> owned = new ConcurrentHashMap<>();
    private final AtomicLong retainedBytes = new AtomicLong();
    private final AtomicLong allocated = new AtomicLong();
    private final AtomicLong reused = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicInteger outstanding = new AtomicInteger();

    /** With {@link #DEFAULT_MAX_RETAINED_PER_CLASS} and {@link #DEFAULT_MAX_RETAINED_BYTES}. */
    public AlignedBuffers() {
        this(DEFAULT_MAX_RETAINED_PER_CLASS, DEFAULT_MAX_RETAINED_BYTES);
    }

    /**
     * @param maxRetainedPerClass free buffers kept per size class (0 = keep none)
     * @param maxRetainedBytes    free bytes kept over all classes
     */
    public AlignedBuffers(int maxRetainedPerClass, long maxRetainedBytes) {
        if (maxRetainedPerClass < 0 || maxRetainedBytes < 0) {
            throw new IllegalArgumentException("negative bound: " + maxRetainedPerClass + ", " + maxRetainedBytes);
        }
        this.maxRetainedPerClass = maxRetainedPerClass;
        this.maxRetainedBytes = maxRetainedBytes;
        for (int i = 0; i < CLASSES; i++) {
            free[i] = new ConcurrentLinkedDeque<>();
            freeCount[i] = new AtomicInteger();
        }
    }

    /**
     * A 4096-aligned direct buffer with position 0, limit {@code minBytes}, big-endian
     * order, and capacity the size class (at least {@code minBytes}). Its contents are
     * unspecified: a reused buffer still holds its previous user's bytes.
     *
     * @throws IllegalArgumentException if {@code minBytes} is negative or above {@link #MAX_CLASS_BYTES}
     */
    public ByteBuffer acquire(int minBytes) {
        int cls = sizeClass(minBytes);
        Slot slot = free[cls].pollFirst();
        if (slot != null) {
            freeCount[cls].decrementAndGet();
            retainedBytes.addAndGet(-slot.buffer.capacity());
            reused.incrementAndGet();
        } else {
            ByteBuffer buf = allocateAligned(MIN_CLASS_BYTES << cls);
            slot = new Slot(buf, cls);
            owned.put(BufferAddress.of(buf), slot);
            allocated.incrementAndGet();
        }
        slot.out.set(true);
        outstanding.incrementAndGet();
        ByteBuffer buf = slot.buffer;
        buf.clear().limit(minBytes);
        buf.order(ByteOrder.BIG_ENDIAN);
        return buf;
    }

    /**
     * Returns a buffer from {@link #acquire}. The caller must not touch it afterwards.
     *
     * @throws IllegalArgumentException if the buffer is not one this pool handed out,
     *         or was already released
     */
    public void release(ByteBuffer buf) {
        if (buf == null || !buf.isDirect()) {
            throw new IllegalArgumentException("not a buffer from this pool: " + buf);
        }
        Slot slot = owned.get(BufferAddress.of(buf));
        if (slot == null || slot.buffer != buf) {
            throw new IllegalArgumentException(
                    "not a buffer from this pool (a foreign buffer, a duplicate or slice, or one already released and dropped): " + buf);
        }
        if (!slot.out.compareAndSet(true, false)) {
            throw new IllegalArgumentException("buffer released twice: " + buf);
        }
        outstanding.decrementAndGet();
        int cls = slot.sizeClass;
        int cap = buf.capacity();
        if (freeCount[cls].incrementAndGet() > maxRetainedPerClass) {
            freeCount[cls].decrementAndGet();
            drop(slot);
            return;
        }
        if (retainedBytes.addAndGet(cap) > maxRetainedBytes) {
            retainedBytes.addAndGet(-cap);
            freeCount[cls].decrementAndGet();
            drop(slot);
            return;
        }
        free[cls].offerFirst(slot);
    }

    /** Buffers allocated from the system since creation. */
    public long allocated() {
        return allocated.get();
    }

    /** Acquires served by a retained buffer. */
    public long reused() {
        return reused.get();
    }

    /** Released buffers not retained because a bound was reached. */
    public long dropped() {
        return dropped.get();
    }

    /** Buffers acquired and not yet released. */
    public int outstanding() {
        return outstanding.get();
    }

    /** Free buffers currently retained, over all classes. */
    public int retained() {
        int n = 0;
        for (AtomicInteger c : freeCount) {
            n += c.get();
        }
        return n;
    }

    /** Bytes held by free retained buffers. */
    public long retainedBytes() {
        return retainedBytes.get();
    }

    /** The capacity {@link #acquire}{@code (minBytes)} returns. */
    public static int classBytes(int minBytes) {
        return MIN_CLASS_BYTES << sizeClass(minBytes);
    }

    /**
     * An unpooled direct buffer of exactly {@code capacity} bytes whose first byte is
     * aligned to {@code alignment} (a power of two).
     */
    public static ByteBuffer allocateAligned(int capacity, int alignment) {
        if (capacity < 0 || alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("capacity " + capacity + ", alignment " + alignment);
        }
        // alignedSlice() trims both ends to the alignment: rounding the capacity up
        // first is what keeps a small request from coming back with capacity 0.
        int rounded = Math.addExact(capacity, alignment - 1) & -alignment;
        ByteBuffer raw = ByteBuffer.allocateDirect(Math.addExact(rounded, alignment));
        return raw.alignedSlice(alignment).slice(0, capacity);
    }

    /** {@link #allocateAligned(int, int)} at {@link #ALIGNMENT}. */
    public static ByteBuffer allocateAligned(int capacity) {
        return allocateAligned(capacity, ALIGNMENT);
    }

    private void drop(Slot slot) {
        owned.remove(BufferAddress.of(slot.buffer), slot);
        dropped.incrementAndGet();
    }

    private static int sizeClass(int minBytes) {
        if (minBytes < 0 || minBytes > MAX_CLASS_BYTES) {
            throw new IllegalArgumentException("buffer size " + minBytes + " outside 0.." + MAX_CLASS_BYTES);
        }
        if (minBytes <= MIN_CLASS_BYTES) {
            return 0;
        }
        int shift = 32 - Integer.numberOfLeadingZeros(minBytes - 1);
        return shift - MIN_SHIFT;
    }

    /** One pooled buffer; identity equality, so map removal never compares contents. */
    private static final class Slot {
        final ByteBuffer buffer;
        final int sizeClass;
        final AtomicBoolean out = new AtomicBoolean();

        Slot(ByteBuffer buffer, int sizeClass) {
            this.buffer = buffer;
            this.sizeClass = sizeClass;
        }
    }
}
