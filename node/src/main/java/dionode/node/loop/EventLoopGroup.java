package dionode.node.loop;

import dionode.node.device.CompletionSignal;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's event loops ({@link EventLoop}), as the executor of its dispatcher: a task submitted
 * on a loop thread stays on that loop (no wake-up, no hand-off), one from elsewhere goes to the
 * loops in turn. Groups are found by id ({@link #named}) by the dispatcher configuration, which
 * Pekko builds by reflection. Thread-safe.
 */
public final class EventLoopGroup extends AbstractExecutorService {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoopGroup.class);
    private static final ConcurrentHashMap<String, EventLoopGroup> GROUPS = new ConcurrentHashMap<>();
    private static final AtomicInteger IDS = new AtomicInteger();

    private final String id;
    private final EventLoop[] loops;
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean shutdown;

    private EventLoopGroup(String id, EventLoop[] loops) {
        this.id = id;
        this.loops = loops;
    }

    /** Whether event loops can run here (Linux x86_64). */
    public static boolean available() {
        return Epoll.available();
    }

    /** Starts {@code threads} loops that sleep as soon as they are idle. */
    public static EventLoopGroup start(int threads) throws IOException {
        return start(threads, 0);
    }

    /**
     * Starts {@code threads} loops, named {@code dionode-loop-N}, findable by {@link #id()} until
     * shut down; an idle loop polls for {@code spinNanos} before it sleeps.
     */
    public static EventLoopGroup start(int threads, long spinNanos) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("an event loop group needs at least one thread: " + threads);
        }
        String id = "loops-" + IDS.incrementAndGet();
        EventLoop[] loops = new EventLoop[threads];
        try {
            for (int i = 0; i < threads; i++) {
                loops[i] = new EventLoop("dionode-loop-" + i, spinNanos);
            }
        } catch (IOException e) {
            for (EventLoop l : loops) {
                if (l != null) {
                    l.stop();
                }
            }
            throw new IOException("cannot start the event loops: " + e.getMessage(), e);
        }
        EventLoopGroup group = new EventLoopGroup(id, loops);
        GROUPS.put(id, group);
        LOG.info("{} event loop thread(s), polling {} µs before sleeping", threads, spinNanos / 1000);
        return group;
    }

    /** The running group of that id; IllegalStateException if there is none (the dispatcher then cannot start). */
    public static EventLoopGroup named(String id) {
        EventLoopGroup g = GROUPS.get(id);
        if (g == null) {
            throw new IllegalStateException("no running event loop group '" + id + "'");
        }
        return g;
    }

    public String id() {
        return id;
    }

    public int threads() {
        return loops.length;
    }

    @Override
    public void execute(Runnable task) {
        if (shutdown) {
            throw new RejectedExecutionException("the node's event loops are shut down");
        }
        EventLoop here = EventLoop.current();
        if (here != null && owns(here)) {
            here.execute(task);
        } else {
            loops[Math.floorMod(next.getAndIncrement(), loops.length)].execute(task);
        }
    }

    /** The loop of index {@code i} modulo the group's size (tests address a loop by it). */
    EventLoop loopFor(int i) {
        return loops[Math.floorMod(i, loops.length)];
    }

    private boolean owns(EventLoop loop) {
        for (EventLoop l : loops) {
            if (l == loop) {
                return true;
            }
        }
        return false;
    }

    /**
     * A completion signal on the first loop: the kernel signals a fresh eventfd (watched
     * edge-triggered, so never read) and the loop runs the reaper. One ring's completions all come to one loop; what they complete
     * moves to the actors' loops as messages.
     */
    public CompletionSignal completionSignal() throws IOException {
        return new LoopSignal(loops[0], Epoll.eventFd());
    }

    /** An eventfd watched by one loop. Thread-safe: close is synchronized; the rest runs once, at the ring's start. */
    private static final class LoopSignal implements CompletionSignal {
        private final EventLoop loop;
        private final int fd;
        private boolean closed;

        LoopSignal(EventLoop loop, int fd) {
            this.loop = loop;
            this.fd = fd;
        }

        @Override
        public int eventFd() {
            return fd;
        }

        @Override
        public void onSignal(Runnable reap) {
            try {
                loop.watch(fd, Epoll.EPOLLIN | Epoll.EPOLLET, events -> reap.run());
            } catch (IOException e) {
                throw new IllegalStateException("cannot watch the completion eventfd: " + e.getMessage(), e);
            }
        }

        @Override
        public boolean deferToPoll(Runnable flush) {
            EventLoop on = EventLoop.current();
            if (on == null) {
                return false;
            }
            on.beforePoll(flush);
            return true;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                if (!loop.isStopped()) {
                    loop.unwatch(fd);
                }
                Epoll.close(fd);
            }
        }
    }

    /** Stops every loop once its queued tasks have run, and forgets the id. Idempotent. */
    @Override
    public void shutdown() {
        shutdown = true;
        GROUPS.remove(id, this);
        for (EventLoop l : loops) {
            l.stop();
        }
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        return new ArrayList<>();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        for (EventLoop l : loops) {
            if (!l.isStopped()) {
                return false;
            }
        }
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (EventLoop l : loops) {
            if (!l.awaitStopped(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return true;
    }
}
