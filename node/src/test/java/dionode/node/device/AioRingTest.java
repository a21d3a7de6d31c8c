package dionode.node.device;

import static dionode.node.device.TestDevices.JNA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.loop.EventLoopGroup;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kernel AIO on a real O_DIRECT device file: the bytes land, completions come back, and every way
 * the kernel can say no (no AIO, a full ring, EAGAIN from a request that would block, an I/O
 * error, a short transfer) ends in a finished transfer or a clear error, never a lost one.
 */
class AioRingTest {
    private static final int MIB = 1 << 20;
    private static final int B = 8192;

    private static ByteBuffer pattern(int seed) {
        ByteBuffer buf = AlignedBuffers.allocateAligned(B);
        TestDevices.fill(buf, seed);
        return buf;
    }

    /** Who learns of completions: a thread of the ring's own waiting in io_getevents, or an event loop told through an eventfd. */
    enum Completions {
        OWN_THREAD, EVENT_LOOP
    }

    private static EventLoopGroup loops;

    @BeforeAll
    static void startLoop() throws Exception {
        loops = EventLoopGroup.start(1);
    }

    @AfterAll
    static void stopLoop() {
        loops.shutdown();
    }

    private static BlockDevice open(Path file, NativeIO io, Completions completions) throws Exception {
        return BlockDevice.open(file, io, 0, completions == Completions.EVENT_LOOP ? loops.completionSignal() : null);
    }

    /**
     * The thread the completion of a transfer started on the loop ran on: started and awaited in
     * one task, so it cannot complete before it is awaited (the loop reaps only after the task).
     */
    private static String completingThread(AsyncStart start) throws Exception {
        CompletableFuture<String> where = new CompletableFuture<>();
        loops.execute(() -> {
            try {
                start.start().handle((v, e) -> where.complete(e == null ? Thread.currentThread().getName() : e.toString()));
            } catch (Exception e) {
                where.completeExceptionally(e);
            }
        });
        return where.get(10, TimeUnit.SECONDS);
    }

    @FunctionalInterface
    private interface AsyncStart {
        CompletableFuture<Void> start() throws Exception;
    }

    @ParameterizedTest
    @EnumSource(Completions.class)
    void asyncWritesFromManyThreadsLandByteForByteAndReadBackAsync(Completions completions) throws Exception {
        Path file = TestDevices.newDeviceFile("aio-stress-" + completions, 8 * MIB);
        try (BlockDevice dev = open(file, JNA, completions)) {
            assertTrue(dev.hasAsync(), "this kernel offers AIO on a device file");
            List<Thread> threads = new ArrayList<>();
            AtomicLong viaRing = new AtomicLong();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < 4; t++) {
                int base = t * 256;
                Thread thread = new Thread(() -> {
                    try {
                        List<CompletableFuture<Void>> mine = new ArrayList<>();
                        List<ByteBuffer> held = new ArrayList<>();
                        for (int i = 0; i < 256; i++) {
                            ByteBuffer buf = pattern(base + i);
                            CompletableFuture<Void> f = dev.writeAsync((long) (base + i) * B, buf);
                            if (f == null) {
                                dev.write((long) (base + i) * B, buf); // the ring said not now: the caller's own way
                            } else {
                                viaRing.incrementAndGet();
                                mine.add(f);
                                held.add(buf);
                            }
                        }
                        for (CompletableFuture<Void> f : mine) {
                            f.get(10, TimeUnit.SECONDS);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) {
                thread.join(30_000);
            }
            assertEquals(List.of(), failures);
            assertTrue(viaRing.get() > 0, "some writes went through the ring");
            for (int block = 0; block < 1024; block++) {
                ByteBuffer in = AlignedBuffers.allocateAligned(B);
                CompletableFuture<Void> read = dev.readAsync((long) block * B, in);
                if (read == null) {
                    dev.read((long) block * B, in);
                } else {
                    read.get(10, TimeUnit.SECONDS);
                }
                assertEquals(-1, TestDevices.firstMismatch(in, block), "block " + block);
            }
        }
    }

    @Test
    void aTwinWithoutKernelAioLeavesEveryTransferToTheCaller() throws Exception {
        Path file = TestDevices.newDeviceFile("aio-none", MIB);
        try (BlockDevice dev = BlockDevice.open(file, new FaultyNativeIO(JNA), 0)) {
            assertFalse(dev.hasAsync());
            assertNull(dev.writeAsync(0, pattern(1)), "nothing started: the caller writes");
        }
    }

    /** Completions held back by a gate in io_getevents, results rewritten: the kernel's answers, on demand. */
    private static final class HeldCompletions extends ForwardingNativeIO {
        final CountDownLatch gate = new CountDownLatch(1);
        /** The thread of the last blocking pwrite. */
        volatile String pwriteThread;
        volatile long rewriteFirstResult;
        volatile boolean rewrite;

        HeldCompletions() {
            super(JNA);
        }

        /** Completions flow at once, the first one's result replaced by {@code result}. */
        static HeldCompletions rewritingFirstResult(long result) {
            HeldCompletions io = new HeldCompletions();
            io.rewriteFirstResult = result;
            io.rewrite = true;
            io.gate.countDown();
            return io;
        }

        @Override
        public long pwrite(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException {
            pwriteThread = Thread.currentThread().getName();
            return super.pwrite(fd, directBuf, count, offset);
        }

        /** The event loop's way in: held back and rewritten as {@link #ioGetEvents}, without waiting. */
        @Override
        public int ioPeekEvents(long context, int maxEvents, ByteBuffer events) throws NativeIOException {
            if (gate.getCount() > 0) {
                return 0;
            }
            int n = super.ioPeekEvents(context, maxEvents, events);
            if (n > 0 && rewrite) {
                rewrite = false;
                events.putLong(16, rewriteFirstResult);
            }
            return n;
        }

        @Override
        public int ioGetEvents(long context, int minEvents, int maxEvents, long events, long timeoutNanos) throws NativeIOException {
            try {
                if (!gate.await(timeoutNanos, TimeUnit.NANOSECONDS)) {
                    return 0;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            }
            int n = super.ioGetEvents(context, minEvents, maxEvents, events, timeoutNanos);
            if (n > 0 && rewrite) {
                rewrite = false;
                ByteBuffer view = new com.sun.jna.Pointer(events).getByteBuffer(0, 32L * n).order(ByteOrder.nativeOrder());
                view.putLong(16, rewriteFirstResult);
            }
            return n;
        }
    }

    @Test
    void aFullRingSaysNotNowAndCloseWaitsForWhatIsInFlight() throws Exception {
        Path file = TestDevices.newDeviceFile("aio-full", MIB);
        HeldCompletions io = new HeldCompletions();
        int fd = io.open(file.toString(), NativeIO.O_RDWR | NativeIO.O_DIRECT);
        AioRing ring = AioRing.open(io, fd, file.toString(), 4, (write, offset, buf, length) -> {
            throw new AssertionError("no fallback expected");
        }, null, new DeviceTraffic());
        assertNotNull(ring);
        List<CompletableFuture<Void>> inFlight = new ArrayList<>();
        List<ByteBuffer> held = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ByteBuffer buf = pattern(i);
            held.add(buf);
            inFlight.add(ring.submit(true, (long) i * B, buf, B));
        }
        inFlight.forEach(f -> assertNotNull(f, "four slots"));
        assertNull(ring.submit(true, 4L * B, pattern(4), B), "a fifth waits in no queue: the caller does it");
        Thread closer = new Thread(ring::close);
        closer.start();
        closer.join(500);
        assertTrue(closer.isAlive(), "close waits while requests are in flight");
        assertNull(ring.submit(true, 5L * B, pattern(5), B), "a closing ring takes nothing");
        io.gate.countDown();
        closer.join(10_000);
        assertFalse(closer.isAlive());
        for (CompletableFuture<Void> f : inFlight) {
            f.get(1, TimeUnit.SECONDS);
        }
        io.close(fd);
        try (BlockDevice dev = BlockDevice.open(file, JNA, 0)) {
            ByteBuffer in = AlignedBuffers.allocateAligned(B);
            dev.read(3L * B, in);
            assertEquals(-1, TestDevices.firstMismatch(in, 3));
        }
    }

    @ParameterizedTest
    @EnumSource(Completions.class)
    void aRequestTheKernelWouldBlockForIsFinishedByABlockingTransfer(Completions completions) throws Exception {
        Path file = TestDevices.newDeviceFile("aio-eagain-" + completions, MIB);
        HeldCompletions io = HeldCompletions.rewritingFirstResult(-NativeIOException.EAGAIN);
        try (BlockDevice dev = open(file, io, completions)) {
            ByteBuffer buf = pattern(9);
            CompletableFuture<Void> f = dev.writeAsync(2L * B, buf);
            assertNotNull(f);
            f.get(10, TimeUnit.SECONDS);
            assertEquals("dionode-aio", io.pwriteThread, "a blocking transfer is never the loop's");
            assertEquals(B, dev.traffic().bytesWritten(), "the write counted once, finished by the fallback");
            ByteBuffer in = AlignedBuffers.allocateAligned(B);
            dev.read(2L * B, in);
            assertEquals(-1, TestDevices.firstMismatch(in, 9), "written by the fallback");
            assertEquals(B, dev.traffic().bytesRead());
        }
    }

    @ParameterizedTest
    @EnumSource(Completions.class)
    void anIoErrorFailsThatRequestNamingTheDevice(Completions completions) throws Exception {
        Path file = TestDevices.newDeviceFile("aio-eio-" + completions, MIB);
        HeldCompletions io = HeldCompletions.rewritingFirstResult(-NativeIOException.EIO);
        try (BlockDevice dev = open(file, io, completions)) {
            CompletableFuture<Void> f = dev.writeAsync(0, pattern(1));
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            NativeIOException cause = assertInstanceOf(NativeIOException.class, e.getCause());
            assertEquals(NativeIOException.EIO, cause.errno());
            assertTrue(cause.getMessage().contains(file.toString()), cause.getMessage());
            CompletableFuture<Void> next = dev.writeAsync(B, pattern(2));
            next.get(10, TimeUnit.SECONDS); // one failure does not stop the ring
            assertEquals(B, dev.traffic().bytesWritten(), "the failed write moved nothing");
        }
    }

    @Test
    void withAnEventLoopCompletionsRunOnTheLoopAndNoThreadWaitsInTheKernel() throws Exception {
        Path file = TestDevices.newDeviceFile("aio-loop", MIB);
        try (BlockDevice dev = open(file, JNA, Completions.EVENT_LOOP)) {
            ByteBuffer buf = pattern(5);
            assertEquals("dionode-loop-0", completingThread(() -> dev.writeAsync(3L * B, buf)));
            ByteBuffer in = AlignedBuffers.allocateAligned(B);
            assertEquals("dionode-loop-0", completingThread(() -> dev.readAsync(3L * B, in)));
            assertEquals(-1, TestDevices.firstMismatch(in, 5));
        }
    }

    @Test
    void closingWithAnEventLoopGoneReapsWhatIsInFlightItself() throws Exception {
        Path file = TestDevices.newDeviceFile("aio-loop-gone", MIB);
        EventLoopGroup gone = EventLoopGroup.start(1);
        HeldCompletions io = new HeldCompletions();
        BlockDevice dev = BlockDevice.open(file, io, 0, gone.completionSignal());
        ByteBuffer buf = pattern(6);
        CompletableFuture<Void> f = dev.writeAsync(0, buf);
        assertNotNull(f);
        gone.shutdown();
        assertTrue(gone.awaitTermination(10, TimeUnit.SECONDS));
        io.gate.countDown();
        dev.close();
        assertTrue(f.isDone() && !f.isCompletedExceptionally(), "reaped by the close, not lost with the loop");
    }

    /** Counts io_submit calls and the iocbs they carried; with {@code refuse}, says EAGAIN to every batch of more than one. */
    private static final class CountingSubmits extends ForwardingNativeIO {
        final List<Integer> submits = java.util.Collections.synchronizedList(new ArrayList<>());
        final boolean refuse;

        CountingSubmits(boolean refuse) {
            super(JNA);
            this.refuse = refuse;
        }

        @Override
        public int ioSubmit(long context, long iocbPointers, int count) throws NativeIOException {
            submits.add(count);
            if (refuse && count > 1) {
                throw new NativeIOException("io_submit", "twin", NativeIOException.EAGAIN, "refused by the test");
            }
            return delegate.ioSubmit(context, iocbPointers, count);
        }
    }

    /** Starts {@code n} writes of seed i at block i in one loop task, and waits for them all. */
    private static void writeInOneTask(BlockDevice dev, int n) throws Exception {
        CompletableFuture<Void> all = new CompletableFuture<>();
        loops.execute(() -> {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    writes.add(dev.writeAsync((long) i * B, pattern(i)));
                }
            } catch (java.io.IOException e) {
                all.completeExceptionally(e);
                return;
            }
            CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).whenComplete((v, e) -> {
                if (e == null) {
                    all.complete(null);
                } else {
                    all.completeExceptionally(e);
                }
            });
        });
        all.get(10, TimeUnit.SECONDS);
        for (int i = 0; i < n; i++) {
            ByteBuffer in = AlignedBuffers.allocateAligned(B);
            dev.read((long) i * B, in);
            assertEquals(-1, TestDevices.firstMismatch(in, i), "block " + i);
        }
    }

    @Test
    void submissionsOfOneLoopPassEnterTheKernelInOneCall() throws Exception {
        Path file = TestDevices.newDeviceFile("aio-batch", MIB);
        CountingSubmits io = new CountingSubmits(false);
        try (BlockDevice dev = open(file, io, Completions.EVENT_LOOP)) {
            writeInOneTask(dev, 16);
            assertEquals(List.of(16), io.submits, "sixteen writes started in one task: one io_submit of sixteen iocbs");
            dev.writeAsync(20L * B, pattern(20)).get(10, TimeUnit.SECONDS);
            assertEquals(List.of(16, 1), io.submits, "off the loop a write is submitted at once, alone");
            assertEquals(17L * B, dev.traffic().bytesWritten());
        }
    }

    @Test
    void aBatchTheKernelRefusesIsFinishedByBlockingTransfers() throws Exception {
        Path file = TestDevices.newDeviceFile("aio-batch-refused", MIB);
        CountingSubmits io = new CountingSubmits(true);
        try (BlockDevice dev = open(file, io, Completions.EVENT_LOOP)) {
            writeInOneTask(dev, 8);
            assertEquals(List.of(8), io.submits);
            assertEquals(8L * B, dev.traffic().bytesWritten(), "every write finished once, by the fallback");
        }
    }
}
