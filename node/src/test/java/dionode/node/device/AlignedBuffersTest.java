package dionode.node.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AlignedBuffersTest {

    private static long address(ByteBuffer buf) {
        return Pointer.nativeValue(Native.getDirectBufferPointer(buf));
    }

    @Test
    void everyClassIsAlignedAndSizedAsAsked() {
        AlignedBuffers pool = new AlignedBuffers();
        int[] sizes = {0, 1, 511, 4096, 4097, 14336, 65536, 1 << 20, (1 << 20) + 1, AlignedBuffers.MAX_CLASS_BYTES};
        for (int size : sizes) {
            ByteBuffer buf = pool.acquire(size);
            assertTrue(buf.isDirect());
            assertEquals(0, address(buf) % AlignedBuffers.ALIGNMENT, "aligned for " + size);
            assertEquals(0, buf.position());
            assertEquals(size, buf.limit());
            assertEquals(AlignedBuffers.classBytes(size), buf.capacity());
            assertTrue(buf.capacity() >= Math.max(size, 4096) && Integer.bitCount(buf.capacity()) == 1);
            pool.release(buf);
        }
        assertThrows(IllegalArgumentException.class, () -> pool.acquire(AlignedBuffers.MAX_CLASS_BYTES + 1));
        assertThrows(IllegalArgumentException.class, () -> pool.acquire(-1));
    }

    @Test
    void unpooledAllocationIsAlignedEvenForSmallSizes() {
        for (int size : new int[] {1, 100, 512, 4095, 4096, 4097}) {
            ByteBuffer buf = AlignedBuffers.allocateAligned(size);
            assertEquals(size, buf.capacity(), "never the capacity-0 alignedSlice trap");
            assertEquals(0, address(buf) % 4096);
        }
        ByteBuffer big = AlignedBuffers.allocateAligned(8192, 8192);
        assertEquals(0, address(big) % 8192);
    }

    @Test
    void releasedBuffersAreReusedClearedAndReset() {
        AlignedBuffers pool = new AlignedBuffers();
        ByteBuffer a = pool.acquire(8192);
        a.position(100).limit(200);
        a.order(ByteOrder.LITTLE_ENDIAN);
        pool.release(a);
        ByteBuffer b = pool.acquire(5000);
        assertSame(a, b, "same class, reused");
        assertEquals(0, b.position());
        assertEquals(5000, b.limit());
        assertEquals(ByteOrder.BIG_ENDIAN, b.order());
        assertEquals(1, pool.allocated());
        assertEquals(1, pool.reused());
        assertEquals(1, pool.outstanding());
        ByteBuffer c = pool.acquire(4096);
        assertNotSame(b, c, "another class");
        assertEquals(2, pool.allocated());
    }

    @Test
    void retentionIsBoundedPerClassAndInBytes() {
        AlignedBuffers pool = new AlignedBuffers(3, 1L << 30);
        List<ByteBuffer> held = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            held.add(pool.acquire(4096));
        }
        held.forEach(pool::release);
        assertEquals(3, pool.retained());
        assertEquals(7, pool.dropped());
        assertEquals(3 * 4096, pool.retainedBytes());

        AlignedBuffers byBytes = new AlignedBuffers(100, 3 * 65536);
        List<ByteBuffer> big = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            big.add(byBytes.acquire(65536));
        }
        big.forEach(byBytes::release);
        assertEquals(3, byBytes.retained());
        assertTrue(byBytes.retainedBytes() <= 3 * 65536);
    }

    @Test
    void doubleForeignAndDuplicateReleasesAreRejected() {
        AlignedBuffers pool = new AlignedBuffers();
        ByteBuffer a = pool.acquire(4096);
        pool.release(a);
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> pool.release(a));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());

        assertThrows(IllegalArgumentException.class, () -> pool.release(AlignedBuffers.allocateAligned(4096)), "foreign");
        assertThrows(IllegalArgumentException.class, () -> pool.release(ByteBuffer.allocate(4096)), "heap");
        ByteBuffer b = pool.acquire(4096);
        assertThrows(IllegalArgumentException.class, () -> pool.release(b.duplicate()), "duplicate");
        assertThrows(IllegalArgumentException.class, () -> new AlignedBuffers().release(b), "another pool's");
        pool.release(b);

        // A dropped buffer (no room to retain it) released again is still caught.
        AlignedBuffers none = new AlignedBuffers(0, 0);
        ByteBuffer c = none.acquire(4096);
        none.release(c);
        assertThrows(IllegalArgumentException.class, () -> none.release(c));
    }

    @Test
    void concurrentUseNeverHandsOutOneBufferTwice() throws Exception {
        AlignedBuffers pool = new AlignedBuffers(8, 1L << 30);
        int threads = 4;
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            runs.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 20_000; i++) {
                    ByteBuffer buf = pool.acquire(4096 << (i % 3));
                    buf.putInt(0, id);
                    buf.putInt(buf.limit() - 4, i);
                    Thread.yield();
                    if (buf.getInt(0) != id || buf.getInt(buf.limit() - 4) != i) {
                        throw new AssertionError("buffer shared between threads");
                    }
                    pool.release(buf);
                }
            }));
        }
        CompletableFuture.allOf(runs.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
        assertEquals(0, pool.outstanding());
        assertTrue(pool.retained() <= 3 * 8);
    }
}
