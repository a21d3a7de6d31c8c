package dionode.node.loop;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The few Linux calls an event loop needs, through JNA direct mapping (x86_64): epoll, eventfd,
 * and the fd of a socket channel for {@code epoll_ctl}.
 *
 * <p>{@code struct epoll_event} is packed on x86_64, 12 bytes:
 * <pre>
 *   0  u32 events   EPOLLIN | EPOLLOUT | ...
 *   4  u64 data     the fd (we put the fd there)
 * </pre>
 * Stateless; thread-safe.
 */
final class Epoll {
    static final int EPOLLIN = 0x001;
    static final int EPOLLOUT = 0x004;
    static final int EPOLLERR = 0x008;
    static final int EPOLLHUP = 0x010;
    /** Edge-triggered: on an eventfd every write is an edge, so its count need never be read back to 0. */
    static final int EPOLLET = 1 << 31;
    static final int EVENT_BYTES = 12;

    private static final int EPOLL_CLOEXEC = 02000000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLL_CTL_MOD = 3;
    private static final int EFD_CLOEXEC = 02000000;
    private static final int EFD_NONBLOCK = 04000;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;

    /** Each thread's epoll_event for epoll_ctl: interest changes come from the stages, on any thread. */
    private static final ThreadLocal<Scratch> CONTROL = ThreadLocal.withInitial(() -> Scratch.of(EVENT_BYTES));

    private Epoll() {
    }

    /** Whether this platform has the calls (Linux x86_64: the struct layout above is that platform's). */
    static boolean available() {
        return Platform.isLinux() && Platform.is64Bit() && "x86-64".equals(Platform.ARCH);
    }

    static int create() throws IOException {
        return check(LibC.epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
    }

    /** A non-blocking eventfd starting at 0. */
    static int eventFd() throws IOException {
        return check(LibC.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");
    }

    static void add(int epfd, int fd, int events) throws IOException {
        control(epfd, EPOLL_CTL_ADD, fd, events);
    }

    static void modify(int epfd, int fd, int events) throws IOException {
        control(epfd, EPOLL_CTL_MOD, fd, events);
    }

    static void remove(int epfd, int fd) throws IOException {
        control(epfd, EPOLL_CTL_DEL, fd, 0);
    }

    private static void control(int epfd, int op, int fd, int events) throws IOException {
        Scratch s = CONTROL.get();
        s.buffer.putInt(0, events).putLong(4, fd);
        check(LibC.epoll_ctl(epfd, op, fd, s.address), "epoll_ctl");
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever, 0: not at all) for events into {@code
     * events} (at {@code address}, room for {@code max}); returns how many, 0 when interrupted by a
     * signal.
     */
    static int await(int epfd, long address, int max, int timeoutMillis) throws IOException {
        int n = LibC.epoll_wait(epfd, address, max, timeoutMillis);
        if (n < 0) {
            int err = Native.getLastError();
            if (err == EINTR) {
                return 0;
            }
            throw new IOException("epoll_wait failed: errno " + err);
        }
        return n;
    }

    /**
     * Adds 1 to an eventfd: {@code word}, 8 bytes at {@code address}, is the caller's to use.
     * Watched edge-triggered, it is never read: its count would take 2^64 signals to fill.
     */
    static void signal(int eventFd, ByteBuffer word, long address) throws IOException {
        word.putLong(0, 1L);
        if (LibC.write(eventFd, address, 8) != 8) {
            int err = Native.getLastError();
            if (err != EAGAIN) { // the counter is at its maximum: it is signalled already
                throw new IOException("eventfd write failed: errno " + err);
            }
        }
    }

    static void close(int fd) {
        LibC.close(fd);
    }

    /**
     * The port a socket fd is bound to (getsockname) or connected to (getpeername, {@code peer}),
     * to check an fd read from a channel: -1 if it is no connected socket.
     */
    static int port(int fd, boolean peer) {
        try (Scratch s = Scratch.of(128 + 4)) {
            s.buffer.putInt(128, 128);
            int r = peer ? LibC.getpeername(fd, s.address, s.address + 128) : LibC.getsockname(fd, s.address, s.address + 128);
            if (r != 0) {
                return -1;
            }
            // sin_port / sin6_port: offset 2, network byte order, in both sockaddr_in and sockaddr_in6
            return ((s.buffer.get(2) & 0xff) << 8) | (s.buffer.get(3) & 0xff);
        }
    }

    private static int check(int result, String call) throws IOException {
        if (result < 0) {
            throw new IOException(call + " failed: errno " + Native.getLastError());
        }
        return result;
    }

    /** A small native buffer for a call's struct; the buffer keeps the memory alive while it is referenced. */
    private record Scratch(ByteBuffer buffer, long address) implements AutoCloseable {
        static Scratch of(int bytes) {
            ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
            return new Scratch(b, Pointer.nativeValue(Native.getDirectBufferPointer(b)));
        }

        @Override
        public void close() {
            java.lang.ref.Reference.reachabilityFence(buffer);
        }
    }

    private static final class LibC {
        static {
            Native.register(LibC.class, "c");
        }

        static native int epoll_create1(int flags);

        static native int epoll_ctl(int epfd, int op, int fd, long event);

        static native int epoll_wait(int epfd, long events, int maxevents, int timeout);

        static native int eventfd(int initval, int flags);

        static native long write(int fd, long buf, long count);

        static native int close(int fd);

        static native int getsockname(int fd, long addr, long addrlen);

        static native int getpeername(int fd, long addr, long addrlen);
    }
}
