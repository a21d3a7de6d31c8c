package dionode.node.loop;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread ({@code dionode-loop-N}) that runs tasks (the dispatcher's: actor mailboxes, stream
 * stages) and, between them, what epoll reports ready: sockets, and eventfds the kernel signals
 * (kernel AIO completions). A request then crosses no thread: its socket's readiness, its actor,
 * its device submission, the completion and the reply all run here, and the thread sleeps only in
 * {@code epoll_wait} when there is nothing to run, so one wake-up serves everything that became
 * ready meanwhile.
 *
 * <p>Idle, the loop first polls its fds without sleeping for its spin time ({@code serve
 * --loop-spin}): a device completion or a request that comes within it is taken without the
 * wake-up a sleep costs (on a VM, a halted vCPU woken by an interrupt), at the price of that
 * much CPU after each burst of work.
 *
 * <p>A task from another thread is queued and wakes the loop through an eventfd only if it sleeps
 * (a flag, so a busy loop takes tasks with no system call). Tasks are run in order, and ready fds
 * are polled (without waiting) at least every {@link #TASKS_PER_POLL} tasks so a stream of tasks
 * cannot starve the sockets. The queue holds what is scheduled: a mailbox or a stage is in it at
 * most once, so it is bounded by the actors and stages that exist.
 *
 * <p>Handlers run on the loop thread and must not block. Thread-safe: {@link #execute},
 * {@link #watch}, {@link #interest} and {@link #unwatch} may be called from any thread.
 */
public final class EventLoop {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);
    static final int TASKS_PER_POLL = 64;
    private static final int EVENTS = 64;
    private static final ThreadLocal<EventLoop> CURRENT = new ThreadLocal<>();

    /** What a watched fd runs when epoll reports it: the ready events ({@link Epoll#EPOLLIN} and the rest). */
    @FunctionalInterface
    public interface Handler {
        void ready(int events);
    }

    private final int epfd;
    private final int wakeFd;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ConcurrentHashMap<Integer, Handler> handlers = new ConcurrentHashMap<>();
    private final AtomicBoolean sleeping = new AtomicBoolean();
    /** Times the loop slept in epoll_wait (read by tests). */
    private final AtomicLong sleeps = new AtomicLong();
    private final ByteBuffer events = ByteBuffer.allocateDirect(EVENTS * Epoll.EVENT_BYTES).order(ByteOrder.nativeOrder());
    private final long eventsAddress = Pointer.nativeValue(Native.getDirectBufferPointer(events));
    private final ByteBuffer wakeWord = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
    private final long wakeAddress = Pointer.nativeValue(Native.getDirectBufferPointer(wakeWord));
    /** Loop-confined: what runs once the tasks of this pass have run, before epoll is asked (batched submissions). */
    private final ArrayList<Runnable> beforePoll = new ArrayList<>();
    /** Loop-confined: what runs once the task or fd handler now running has returned (a connection's replies). */
    private final ArrayList<Runnable> afterTask = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** How long the loop polls, once idle, before it sleeps: what comes meanwhile costs no wake-up. */
    private final long spinNanos;
    private volatile boolean stopping;

    EventLoop(String name, long spinNanos) throws IOException {
        this.spinNanos = spinNanos;
        this.epfd = Epoll.create();
        try {
            this.wakeFd = Epoll.eventFd();
            Epoll.add(epfd, wakeFd, Epoll.EPOLLIN | Epoll.EPOLLET);
        } catch (IOException e) {
            Epoll.close(epfd);
            throw e;
        }
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** The loop whose thread this is, or null on any other thread. */
    public static EventLoop current() {
        return CURRENT.get();
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Runs {@code task} on the loop: after what is queued, at once if the loop is idle. */
    public void execute(Runnable task) {
        tasks.add(task);
        if (!inLoop() && sleeping.get() && sleeping.compareAndSet(true, false)) {
            try {
                Epoll.signal(wakeFd, wakeWord, wakeAddress);
            } catch (IOException e) {
                LOG.error("cannot wake event loop {}: {}", thread.getName(), e.getMessage());
            }
        }
    }

    /**
     * Runs {@code flush} on this loop once the tasks of the present pass have run (at most {@link
     * #TASKS_PER_POLL}), before the loop looks at its fds or sleeps: work the pass's tasks gathered
     * (device submissions) leaves in one system call. Called on the loop only; each caller asks once
     * per pass, so what waits here is bounded by the callers.
     */
    public void beforePoll(Runnable flush) {
        if (!inLoop()) {
            throw new IllegalStateException("beforePoll from " + Thread.currentThread().getName() + ", not from " + thread.getName());
        }
        beforePoll.add(flush);
    }

    /**
     * Runs {@code flush} on this loop as soon as the task or fd handler now running returns, before
     * the next one: what that one piece of work produced (the replies of one run of a connection's
     * stream) leaves together, and waits for nothing else the pass still holds. Called on the loop
     * only; each caller asks once per task, so what waits here is bounded by the callers.
     */
    public void afterTask(Runnable flush) {
        if (!inLoop()) {
            throw new IllegalStateException("afterTask from " + Thread.currentThread().getName() + ", not from " + thread.getName());
        }
        afterTask.add(flush);
    }

    /** Watches {@code fd} for {@code interest} (EPOLLIN / EPOLLOUT, level-triggered unless EPOLLET); {@code handler} runs on the loop. */
    public void watch(int fd, int interest, Handler handler) throws IOException {
        if (handlers.putIfAbsent(fd, handler) != null) {
            throw new IllegalStateException("fd " + fd + " is watched already");
        }
        try {
            Epoll.add(epfd, fd, interest);
        } catch (IOException e) {
            handlers.remove(fd);
            throw e;
        }
    }

    /** Changes what a watched fd is watched for (0: nothing, until changed again). */
    public void interest(int fd, int interest) throws IOException {
        Epoll.modify(epfd, fd, interest);
    }

    /** Stops watching {@code fd}: call before closing it, so a reused fd number is not taken for it. */
    public void unwatch(int fd) {
        if (handlers.remove(fd) != null) {
            try {
                Epoll.remove(epfd, fd);
            } catch (IOException e) {
                LOG.debug("event loop {}: epoll_ctl DEL of fd {}: {}", thread.getName(), fd, e.getMessage());
            }
        }
    }

    /** Stops the thread once what is queued has run; the epoll and eventfd are closed when it has. */
    void stop() {
        stopping = true;
        execute(() -> { }); // wakes a sleeping loop, which then sees stopping and no longer waits
    }

    boolean awaitStopped(long timeout, TimeUnit unit) throws InterruptedException {
        return stopped.await(timeout, unit);
    }

    long sleeps() {
        return sleeps.get();
    }

    boolean isStopped() {
        return stopped.getCount() == 0;
    }

    private void run() {
        CURRENT.set(this);
        try {
            while (true) {
                runTasks();
                flush(beforePoll);
                if (stopping && tasks.isEmpty()) {
                    break;
                }
                int timeout = 0;
                if (tasks.isEmpty() && spinNanos > 0) {
                    int ready = spin();
                    if (ready != 0) {
                        if (ready > 0) {
                            dispatch(ready);
                        }
                        continue;
                    }
                }
                if (tasks.isEmpty()) {
                    sleeping.set(true);
                    if (tasks.isEmpty() && !stopping) { // a task queued before the flag went up is seen here
                        timeout = -1;
                        sleeps.incrementAndGet();
                    }
                }
                int n = Epoll.await(epfd, eventsAddress, EVENTS, timeout);
                sleeping.set(false);
                dispatch(n);
            }
        } catch (IOException | RuntimeException | Error e) {
            LOG.error("event loop {} stopped: {}", thread.getName(), e.toString(), e);
        } finally {
            handlers.clear();
            Epoll.close(wakeFd);
            Epoll.close(epfd);
            stopped.countDown();
        }
    }

    private void runTasks() {
        int ran = 0;
        Runnable task;
        while (ran < TASKS_PER_POLL && (task = tasks.poll()) != null) {
            ran++;
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("a task on event loop {} failed", thread.getName(), e);
            }
            flush(afterTask);
        }
    }

    /** Polls without sleeping for up to spinNanos: the fds ready (> 0), -1 when a task came, 0 when nothing did. */
    private int spin() throws IOException {
        long deadline = System.nanoTime() + spinNanos;
        while (!stopping) {
            int n = Epoll.await(epfd, eventsAddress, EVENTS, 0);
            if (n > 0) {
                return n;
            }
            if (!tasks.isEmpty()) {
                return -1;
            }
            if (System.nanoTime() - deadline > 0) {
                return 0;
            }
            Thread.onSpinWait();
        }
        return -1;
    }

    private void flush(ArrayList<Runnable> flushes) {
        for (int i = 0; i < flushes.size(); i++) { // a flush may ask for another flush: it runs in this one
            try {
                flushes.get(i).run();
            } catch (RuntimeException e) {
                LOG.error("a flush on event loop {} failed", thread.getName(), e);
            }
        }
        flushes.clear();
    }

    private void dispatch(int n) {
        for (int i = 0; i < n; i++) {
            int at = i * Epoll.EVENT_BYTES;
            int ready = events.getInt(at);
            int fd = (int) events.getLong(at + 4);
            if (fd == wakeFd) {
                continue; // woken for tasks: they run next
            }
            Handler h = handlers.get(fd);
            if (h == null) {
                continue; // unwatched after epoll reported it
            }
            try {
                h.ready(ready);
            } catch (RuntimeException e) {
                LOG.error("fd {} on event loop {}: its handler failed", fd, thread.getName(), e);
            }
            flush(afterTask);
        }
    }

    @Override
    public String toString() {
        return thread.getName();
    }
}
