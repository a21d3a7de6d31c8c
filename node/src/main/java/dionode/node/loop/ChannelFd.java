package dionode.node.loop;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fd of a connected {@link SocketChannel}, for an event loop's epoll: the JDK keeps it in
 * {@code sun.nio.ch.SocketChannelImpl.fdVal}, which no public API gives out. It is read through
 * {@code Unsafe} (no --add-opens needed) and checked against the channel's two ports with {@code getsockname} and {@code getpeername}:
 * a JDK that lays the class out otherwise gives -1 here, and the socket is then served by a
 * thread of its own instead. Stateless after its one-time probe; thread-safe.
 */
public final class ChannelFd {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelFd.class);
    private static final sun.misc.Unsafe UNSAFE;
    private static final long FD_OFFSET;
    private static final Class<?> IMPL;

    static {
        sun.misc.Unsafe unsafe = null;
        long offset = -1;
        Class<?> impl = null;
        try {
            Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = (sun.misc.Unsafe) f.get(null);
            impl = Class.forName("sun.nio.ch.SocketChannelImpl");
            offset = unsafe.objectFieldOffset(impl.getDeclaredField("fdVal"));
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.info("socket fds are not readable here ({}): each connection is read by a thread of its own", e.toString());
            unsafe = null;
        }
        UNSAFE = unsafe;
        FD_OFFSET = offset;
        IMPL = impl;
    }

    private ChannelFd() {
    }

    /** The channel's fd, or -1 when it cannot be known for sure. */
    public static int of(SocketChannel channel) {
        if (UNSAFE == null || !Epoll.available() || !IMPL.isInstance(channel)) {
            return -1;
        }
        int fd = UNSAFE.getInt(channel, FD_OFFSET);
        try {
            if (fd >= 0 && channel.getLocalAddress() instanceof InetSocketAddress local && Epoll.port(fd, false) == local.getPort()
                    && channel.getRemoteAddress() instanceof InetSocketAddress remote && Epoll.port(fd, true) == remote.getPort()) {
                return fd;
            }
        } catch (IOException e) {
            return -1;
        }
        LOG.debug("fd {} read from a socket channel does not match it", fd);
        return -1;
    }
}
