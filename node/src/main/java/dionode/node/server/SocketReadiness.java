package dionode.node.server;

import dionode.node.loop.EventLoop;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@link SocketStage} learns that its socket is readable or writable, and who reads it:
 * the event loop the stage runs on ({@link OnLoop}: no thread of the connection's own), or a
 * thread of its own waiting in a selector on this socket alone ({@link OwnThread}). Interest is
 * {@link SelectionKey#OP_READ} and {@link SelectionKey#OP_WRITE}, which are also epoll's {@code
 * EPOLLIN} and {@code EPOLLOUT}. Thread-safe: interest changes come from the stage and the reader.
 */
sealed interface SocketReadiness permits SocketReadiness.OnLoop, SocketReadiness.OwnThread {
    /** What the stage does when told: read what there is (false when a read failed), or write what waits. */
    interface Socket {
        boolean readAvailable(ByteBuffer buffer);

        void writable();

        boolean closing();

        String describe();
    }

    /** Adds and removes interest; {@code fromReader} when the reader itself changes it. False once the socket is gone. */
    boolean change(int add, int remove, boolean fromReader);

    /** Starts telling the socket (once the stage holds this readiness: the reader may change interest at once). */
    void start() throws IOException;

    /** No more readiness: called once the socket is closing. */
    void stop();

    /** Epoll on the stage's loop, level-triggered; with no interest, edge-triggered, so a hang-up is told once, not forever. */
    final class OnLoop implements SocketReadiness {
        private static final int EPOLLET = 1 << 31;
        private final EventLoop loop;
        private final int fd;
        private final Socket socket;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect((int) WireLimits.READ_BYTES);
        private int interest = SelectionKey.OP_READ; // guarded by this

        OnLoop(EventLoop loop, int fd, Socket socket) {
            this.loop = loop;
            this.fd = fd;
            this.socket = socket;
        }

        @Override
        public void start() throws IOException {
            loop.watch(fd, SelectionKey.OP_READ, this::ready);
        }

        private void ready(int events) {
            if (socket.closing()) {
                return;
            }
            if ((events & SelectionKey.OP_WRITE) != 0) {
                change(0, SelectionKey.OP_WRITE, true);
                socket.writable();
            }
            if ((events & ~SelectionKey.OP_WRITE) != 0 && !socket.readAvailable(buffer)) { // EPOLLIN, EPOLLERR, EPOLLHUP
                stop();
            }
        }

        @Override
        public synchronized boolean change(int add, int remove, boolean fromReader) {
            interest = (interest | add) & ~remove;
            try {
                loop.interest(fd, interest == 0 ? EPOLLET : interest);
                return true;
            } catch (IOException gone) {
                return false;
            }
        }

        @Override
        public void stop() {
            loop.unwatch(fd);
        }
    }

    /** A thread ({@code dionode-conn-PEER}) waiting in a selector on this socket alone. */
    final class OwnThread implements SocketReadiness {
        private static final Logger LOG = LoggerFactory.getLogger(OwnThread.class);
        private final Selector selector;
        private final SelectionKey key;
        private final Socket socket;

        OwnThread(SocketChannel channel, Socket socket) throws IOException {
            this.selector = Selector.open();
            try {
                this.key = channel.register(selector, SelectionKey.OP_READ);
            } catch (IOException e) {
                selector.close();
                throw e;
            }
            this.socket = socket;
        }

        @Override
        public void start() {
            Thread reader = new Thread(this::readLoop, "dionode-conn-" + socket.describe());
            reader.setDaemon(true);
            reader.start();
        }

        /** The stage's own changes wake the reader's select so they take effect now; the reader's need none (it selects next). */
        @Override
        public boolean change(int add, int remove, boolean fromReader) {
            synchronized (this) {
                try {
                    key.interestOps((key.interestOps() | add) & ~remove);
                } catch (CancelledKeyException gone) {
                    return false;
                }
            }
            if (!fromReader) {
                selector.wakeup();
            }
            return true;
        }

        @Override
        public void stop() {
            selector.wakeup();
        }

        private void readLoop() {
            ByteBuffer buffer = ByteBuffer.allocateDirect((int) WireLimits.READ_BYTES);
            try {
                while (!socket.closing()) {
                    selector.select();
                    if (socket.closing() || !key.isValid()) {
                        break;
                    }
                    if (!selector.selectedKeys().remove(key)) {
                        continue; // woken to take a change of interest
                    }
                    int ready = key.readyOps();
                    if ((ready & SelectionKey.OP_WRITE) != 0) {
                        change(0, SelectionKey.OP_WRITE, true);
                        socket.writable();
                    }
                    if ((ready & SelectionKey.OP_READ) != 0 && !socket.readAvailable(buffer)) {
                        break;
                    }
                }
            } catch (IOException | ClosedSelectorException | CancelledKeyException e) {
                if (!socket.closing()) {
                    LOG.debug("connection {}: reader stops: {}", socket.describe(), e.toString());
                }
            } finally {
                try {
                    selector.close();
                } catch (IOException e) {
                    LOG.debug("connection {}: selector close: {}", socket.describe(), e.toString());
                }
            }
        }
    }
}
