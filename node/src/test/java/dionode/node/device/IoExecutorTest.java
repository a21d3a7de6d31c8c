package dionode.node.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IoExecutorTest {

    @Test
    void runsOnNamedDaemonThreads() throws Exception {
        try (IoExecutor pool = new IoExecutor(2, 8)) {
            Thread t = pool.submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
            assertTrue(t.getName().matches("dionode-io-\\d+"), t.getName());
            assertTrue(t.isDaemon());
            assertEquals(2, pool.threads());
            assertEquals(8, pool.queueCapacity());
        }
    }

    @Test
    void aFullQueueRejectsAtOnceWithoutBlocking() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (IoExecutor pool = new IoExecutor(1, 2)) {
            CompletableFuture<String> busy = pool.submit(() -> {
                running.countDown();
                await(release);
                return "busy";
            });
            assertTrue(running.await(5, TimeUnit.SECONDS));
            CompletableFuture<String> q1 = pool.submit(() -> "q1");
            CompletableFuture<String> q2 = pool.submit(() -> "q2");
            assertEquals(2, pool.queued());

            long start = System.nanoTime();
            CompletableFuture<String> rejected = pool.submit(() -> "never");
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMs < 1000, "submit must not block: " + tookMs + " ms");
            assertTrue(rejected.isCompletedExceptionally(), "failed before submit returned");
            ExecutionException e = assertThrows(ExecutionException.class, rejected::get);
            assertInstanceOf(RejectedExecutionException.class, e.getCause());
            assertEquals(1, pool.rejected());

            release.countDown();
            assertEquals("busy", busy.get(5, TimeUnit.SECONDS));
            assertEquals("q1", q1.get(5, TimeUnit.SECONDS));
            assertEquals("q2", q2.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void taskExceptionsFailTheFuture() throws Exception {
        try (IoExecutor pool = new IoExecutor(2, 8)) {
            CompletableFuture<Object> io = pool.submit(() -> {
                throw new NativeIOException("pwrite", "/dev/x", NativeIOException.EIO, null);
            });
            ExecutionException e = assertThrows(ExecutionException.class, () -> io.get(5, TimeUnit.SECONDS));
            NativeIOException cause = assertInstanceOf(NativeIOException.class, e.getCause());
            assertEquals(NativeIOException.EIO, cause.errno());

            CompletableFuture<Object> bug = pool.submit(() -> {
                throw new IllegalStateException("bug");
            });
            e = assertThrows(ExecutionException.class, () -> bug.get(5, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, e.getCause());

            assertEquals(42, pool.submit(() -> 42).get(5, TimeUnit.SECONDS), "the pool survives failed tasks");
        }
    }

    @Test
    void closeDrainsQueuedTasksThenRejects() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        IoExecutor pool = new IoExecutor(2, 100);
        for (int i = 0; i < 50; i++) {
            futures.add(pool.submit(() -> {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                return ran.incrementAndGet();
            }));
        }
        pool.close();
        assertEquals(50, ran.get());
        assertTrue(futures.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally()));
        CompletableFuture<Integer> late = pool.submit(() -> 1);
        assertTrue(late.isCompletedExceptionally());
    }

    @Test
    void closeTimeoutFailsTasksThatNeverRan() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        IoExecutor pool = new IoExecutor(1, 4, Duration.ofMillis(100));
        pool.submit(() -> {
            running.countDown();
            await(never);
            return null;
        });
        assertTrue(running.await(5, TimeUnit.SECONDS));
        CompletableFuture<String> queued = pool.submit(() -> "queued");
        pool.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> queued.get(5, TimeUnit.SECONDS));
        assertInstanceOf(RejectedExecutionException.class, e.getCause());
    }

    private static void await(CountDownLatch latch) throws IOException {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IOException("latch timeout");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
