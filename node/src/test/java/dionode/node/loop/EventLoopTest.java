package dionode.node.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Event loops on real epoll and eventfds, with real sockets on 127.0.0.1: tasks run in order on
 * the loop and wake it from its sleep, a task from a loop stays there, readiness comes to the
 * handler on the loop and stops when interest does, and a shut-down group runs what it had.
 */
class EventLoopTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() throws Exception {
        group = EventLoopGroup.start(2);
    }

    @AfterEach
    void stop() throws Exception {
        group.shutdown();
        assertTrue(group.awaitTermination(10, TimeUnit.SECONDS), "the loops stop");
    }

    @Test
    void tasksFromAnotherThreadRunInOrderOnALoopThreadEvenWhenItSleeps() throws Exception {
        List<String> ran = new CopyOnWriteArrayList<>();
        for (int round = 0; round < 50; round++) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            EventLoop loop = group.loopFor(round);
            int r = round;
            loop.execute(() -> ran.add(r + "a " + Thread.currentThread().getName()));
            loop.execute(() -> ran.add(r + "b " + Thread.currentThread().getName()));
            loop.execute(() -> done.complete(null));
            done.get(5, TimeUnit.SECONDS);
            Thread.sleep(2); // the loop goes back to epoll_wait: the next round must wake it
        }
        assertEquals(100, ran.size());
        for (int round = 0; round < 50; round++) {
            String thread = "dionode-loop-" + (round % 2);
            assertEquals(round + "a " + thread, ran.get(2 * round));
            assertEquals(round + "b " + thread, ran.get(2 * round + 1));
        }
    }

    /** A flush a task asks for runs when that task returns: before the next task, and before the pass's own flushes. */
    @Test
    void aFlushAskedForByATaskRunsBeforeTheNextTaskAndBeforeThePoll() throws Exception {
        List<String> ran = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        EventLoop loop = group.loopFor(0);
        loop.execute(() -> {
            loop.execute(() -> ran.add("next task"));
            loop.beforePoll(() -> {
                ran.add("before poll");
                done.complete(null);
            });
            loop.afterTask(() -> {
                ran.add("after task");
                loop.afterTask(() -> ran.add("asked for by a flush"));
            });
            ran.add("task");
        });
        done.get(5, TimeUnit.SECONDS);
        assertEquals(List.of("task", "after task", "asked for by a flush", "next task", "before poll"), ran);
        assertThrows(IllegalStateException.class, () -> loop.afterTask(() -> { }), "only the loop's own work asks");
    }

    @Test
    void aTaskSubmittedOnALoopStaysOnThatLoop() throws Exception {
        BlockingQueue<String> where = new LinkedBlockingQueue<>();
        for (int i = 0; i < 2; i++) {
            group.loopFor(i).execute(() -> {
                String mine = Thread.currentThread().getName();
                for (int k = 0; k < 10; k++) {
                    group.execute(() -> where.add(mine + "->" + Thread.currentThread().getName()));
                }
            });
        }
        for (int k = 0; k < 20; k++) {
            String hop = where.poll(5, TimeUnit.SECONDS);
            String[] ends = hop.split("->");
            assertEquals(ends[0], ends[1], hop);
        }
    }

    @Test
    void aReadableSocketIsToldOnTheLoopUntilItsInterestIsTakenAway() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                SocketChannel client = SocketChannel.open(server.getLocalAddress());
                SocketChannel accepted = server.accept()) {
            accepted.configureBlocking(false);
            int fd = ChannelFd.of(accepted);
            assertTrue(fd >= 0, "the fd of an accepted socket");
            assertNotEquals(fd, ChannelFd.of(client), "each channel its own fd");
            EventLoop loop = group.loopFor(0);
            BlockingQueue<String> told = new LinkedBlockingQueue<>();
            loop.watch(fd, Epoll.EPOLLIN, events -> {
                told.add(Thread.currentThread().getName() + " " + events);
                try {
                    loop.interest(fd, 0); // level-triggered: without this it would be told again and again
                } catch (Exception e) {
                    told.add(e.toString());
                }
            });
            client.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertEquals("dionode-loop-0 " + Epoll.EPOLLIN, told.poll(5, TimeUnit.SECONDS));
            Thread.sleep(50);
            assertEquals(null, told.poll(), "no interest, no word");
            ByteBuffer in = ByteBuffer.allocate(3);
            assertEquals(3, accepted.read(in), "the bytes were left for the owner to read");
            client.write(ByteBuffer.wrap(new byte[] {4}));
            loop.interest(fd, Epoll.EPOLLIN);
            assertEquals("dionode-loop-0 " + Epoll.EPOLLIN, told.poll(5, TimeUnit.SECONDS));
            loop.unwatch(fd);
        }
    }

    @Test
    void anFdThatBecomesReadyWhileTheLoopSpinsIsTakenWithoutASleep() throws Exception {
        EventLoopGroup spinning = EventLoopGroup.start(1, TimeUnit.MILLISECONDS.toNanos(300));
        int fd = Epoll.eventFd();
        ByteBuffer word = ByteBuffer.allocateDirect(8).order(java.nio.ByteOrder.nativeOrder());
        long address = com.sun.jna.Pointer.nativeValue(com.sun.jna.Native.getDirectBufferPointer(word));
        try {
            EventLoop loop = spinning.loopFor(0);
            BlockingQueue<String> told = new LinkedBlockingQueue<>();
            loop.watch(fd, Epoll.EPOLLIN | Epoll.EPOLLET, events -> told.add(Thread.currentThread().getName()));
            Thread.sleep(600); // idle long past its spin: asleep
            long asleep = loop.sleeps();
            assertTrue(asleep >= 1, "an idle loop sleeps once its spin is over");
            CompletableFuture<Void> ran = new CompletableFuture<>();
            loop.execute(() -> ran.complete(null));
            ran.get(5, TimeUnit.SECONDS);
            Epoll.signal(fd, word, address); // well within the 300 ms the loop polls after the task
            assertEquals("dionode-loop-0", told.poll(5, TimeUnit.SECONDS));
            assertEquals(asleep, loop.sleeps(), "woken once by the task, then spinning: the fd came without a second sleep");
            loop.unwatch(fd);
        } finally {
            spinning.shutdown();
            Epoll.close(fd);
        }
    }

    @Test
    void aClosedOrUnconnectedChannelHasNoFdToGive() throws Exception {
        SocketChannel unconnected = SocketChannel.open();
        assertEquals(-1, ChannelFd.of(unconnected));
        unconnected.close();
        assertEquals(-1, ChannelFd.of(unconnected));
    }

    @Test
    void shutdownRunsWhatWasQueuedThenRefusesMore() throws Exception {
        List<Integer> ran = new ArrayList<>();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        EventLoop loop = group.loopFor(0);
        loop.execute(gate::join); // holds the loop while more is queued behind it
        for (int i = 0; i < 5; i++) {
            int n = i;
            loop.execute(() -> ran.add(n));
        }
        group.shutdown();
        gate.complete(null);
        assertTrue(group.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(List.of(0, 1, 2, 3, 4), ran);
        assertThrows(RejectedExecutionException.class, () -> group.execute(() -> { }));
    }
}
