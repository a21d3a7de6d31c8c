package dionode.node.device;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device I/O pool: a fixed number of daemon threads named {@code dionode-io-N}
 * (one per request the device should have in flight) fed by a bounded queue.
 *
 * <p>Callers are actors, which must never block: {@link #submit} never waits. When
 * the queue is full the returned future is already failed with a
 * {@link RejectedExecutionException}, and the caller decides (EAGAIN, retry later).
 * Futures complete on the I/O thread, so callers should only hand the result back
 * to themselves (e.g. {@code pipeToSelf}) and not do real work in a callback.
 *
 * <p>Thread-safe.
 */
public final class IoExecutor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IoExecutor.class);

    public static final int DEFAULT_THREADS = 32;
    public static final int DEFAULT_QUEUE_CAPACITY = 1024;
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final ThreadPoolExecutor pool;
    private final int threads;
    private final int queueCapacity;
    private final Duration closeTimeout;
    private final AtomicLong rejected = new AtomicLong();

    /** {@link #DEFAULT_THREADS} threads, {@link #DEFAULT_QUEUE_CAPACITY} queued tasks. */
    public IoExecutor() {
        this(DEFAULT_THREADS, DEFAULT_QUEUE_CAPACITY);
    }

    public IoExecutor(int threads, int queueCapacity) {
        this(threads, queueCapacity, DEFAULT_CLOSE_TIMEOUT);
    }

    /**
     * @param threads       pool size: the device queue depth to aim for
     * @param queueCapacity tasks that may wait for a thread before submissions are rejected
     * @param closeTimeout  how long {@link #close()} waits for queued and running tasks
     */
    public IoExecutor(int threads, int queueCapacity, Duration closeTimeout) {
        if (threads <= 0 || queueCapacity <= 0) {
            throw new IllegalArgumentException("threads and queueCapacity must be positive: " + threads + ", " + queueCapacity);
        }
        this.threads = threads;
        this.queueCapacity = queueCapacity;
        this.closeTimeout = Objects.requireNonNull(closeTimeout, "closeTimeout");
        this.pool = new ThreadPoolExecutor(threads, threads, 0L, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queueCapacity), new IoThreadFactory(), new ThreadPoolExecutor.AbortPolicy());
    }

    /**
     * Queues {@code task}; never blocks. The future fails with the task's exception,
     * or with {@link RejectedExecutionException} if the queue is full or the pool closed.
     */
    public <T> CompletableFuture<T> submit(IoTask<T> task) {
        Objects.requireNonNull(task, "task");
        Job<T> job = new Job<>(task);
        try {
            pool.execute(job);
        } catch (RejectedExecutionException e) {
            rejected.incrementAndGet();
            job.future.completeExceptionally(e);
        }
        return job.future;
    }

    public int threads() {
        return threads;
    }

    public int queueCapacity() {
        return queueCapacity;
    }

    /** Tasks waiting for a thread (a snapshot). */
    public int queued() {
        return pool.getQueue().size();
    }

    /** Tasks running now (an estimate, from the executor). */
    public int active() {
        return pool.getActiveCount();
    }

    /** Submissions rejected since creation. */
    public long rejected() {
        return rejected.get();
    }

    /**
     * Stops accepting tasks, lets queued and running ones finish within the close
     * timeout, then stops the threads. Tasks still queued at the timeout fail with
     * {@link RejectedExecutionException}; running ones are interrupted (a native
     * call in progress still finishes).
     */
    @Override
    public void close() {
        pool.shutdown();
        boolean done;
        try {
            done = pool.awaitTermination(closeTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        if (!done) {
            List<Runnable> never = pool.shutdownNow();
            LOG.warn("I/O pool did not drain within {}: {} queued tasks failed, running tasks interrupted",
                    closeTimeout, never.size());
            for (Runnable r : never) {
                if (r instanceof Job<?> job) {
                    job.future.completeExceptionally(new RejectedExecutionException("I/O pool closed before the task ran"));
                }
            }
        }
    }

    private static final class Job<T> implements Runnable {
        final IoTask<T> task;
        final CompletableFuture<T> future = new CompletableFuture<>();

        Job(IoTask<T> task) {
            this.task = task;
        }

        @Override
        public void run() {
            T result;
            try {
                result = task.run();
            } catch (Throwable t) {
                future.completeExceptionally(t);
                if (t instanceof Error err) {
                    throw err;
                }
                return;
            }
            future.complete(result);
        }
    }

    private static final class IoThreadFactory implements ThreadFactory {
        private final AtomicInteger next = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "dionode-io-" + next.getAndIncrement());
            t.setDaemon(true);
            t.setUncaughtExceptionHandler((th, e) -> LOG.error("uncaught on {}", th.getName(), e));
            return t;
        }
    }
}
