package dionode.node.server;

import dionode.node.loop.ChannelFd;
import dionode.node.loop.EventLoop;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One accepted socket as a Pekko Streams stage: its outlet emits what the peer sent, its inlet
 * takes what to send ({@link TransportKind#NIO}). Joined with a connection flow it is the whole
 * connection.
 *
 * <p>Reading: when the stage runs on an event loop, that loop's epoll watches the socket and the
 * loop reads it (no thread of the connection's own, no hand-off to the stage's thread); otherwise
 * a thread of the connection's own ({@code dionode-conn-PORT}) waits in a selector on this socket
 * alone ({@link SocketReadiness}). The reader reads what has arrived (up to {@link
 * WireLimits#READ_BYTES} a read) and hands it to the stage. It reads only while it holds one of two permits: one chunk being handled
 * downstream and one read ahead. A permit comes back when the stage pushes its chunk, so while
 * the flow keeps up the reader never waits for one (no wake-up beyond the one the data causes);
 * when the flow backpressures, reading stops and TCP holds the peer back.
 *
 * <p>Writing: from the stage itself, non-blocking. On an event loop the replies of one run of the
 * stream are gathered ({@link ReplyGather}, up to 16 KiB) and leave in one write when that task
 * returns ({@link EventLoop#afterTask}); off a loop each is written as it comes. Replies the socket cannot
 * take wait for the reader to see the socket writable; nothing more is pulled meanwhile, so a
 * peer that does not read its replies stops its requests from being taken. Beyond the gathered
 * bytes, the next element is pulled only once the last one is wholly in the kernel, which is what
 * {@link ReleaseOnPull} counts on.
 *
 * <p>The socket closes when the flow has finished sending (or fails); a peer's end of input
 * completes the outlet. Each materialization is confined to its stage, apart from the reader,
 * which shares only the permits, the readiness (thread-safe) and the callbacks.
 */
public final class SocketStage extends GraphStage<FlowShape<ByteString, ByteString>> {
    private static final Logger LOG = LoggerFactory.getLogger(SocketStage.class);
    private static final int READ_AHEAD_CHUNKS = 2;

    private final Inlet<ByteString> toSend = Inlet.create("SocketStage.toSend");
    private final Outlet<ByteString> received = Outlet.create("SocketStage.received");
    private final FlowShape<ByteString, ByteString> shape = FlowShape.of(toSend, received);
    private final SocketChannel channel;
    private final Runnable onClosed;
    private final ReplyGather.Writes writes;

    /**
     * @param channel  a connected socket in non-blocking mode, owned by the stage from now on
     * @param onClosed runs once when the socket is closed (a listener's connection slot)
     * @param writes   told of every write system call and the replies it sent (the {@code wire_writes} stats)
     */
    public SocketStage(SocketChannel channel, Runnable onClosed, ReplyGather.Writes writes) {
        this.channel = channel;
        this.onClosed = onClosed;
        this.writes = writes;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new Logic();
    }

    /** What the reader thread hands over: bytes, the end of input, or a read that failed. */
    private sealed interface Arrival {
    }

    private record Chunk(ByteString bytes) implements Arrival {
    }

    private record EndOfInput() implements Arrival {
    }

    private record ReadFailed(IOException failure) implements Arrival {
    }

    private final class Logic extends GraphStageLogic implements SocketReadiness.Socket {
        private final Semaphore permits = new Semaphore(READ_AHEAD_CHUNKS);
        /**
         * Set by the reader once it has stopped reading for want of a permit; whoever clears it
         * (the reader seeing a permit come back, or the stage giving one back) turns reading on
         * again, so a permit returned while the reader stops is never lost.
         */
        private final AtomicBoolean starved = new AtomicBoolean();
        private SocketReadiness readiness;
        private AsyncCallback<Arrival> arrived;
        /** {@link #writeSome} in the stage: the socket became writable, or the loop's flush left work for the stage. */
        private AsyncCallback<Boolean> writeInStage;
        private final Runnable flush = this::endOfTask;
        private volatile boolean closing;
        /** The reader's only: the peer's end of input was read. */
        private boolean sawEnd;
        /** Chunks that arrived while downstream had not pulled: at most {@link #READ_AHEAD_CHUNKS}, one per permit. */
        private final ArrayDeque<ByteString> waiting = new ArrayDeque<>(READ_AHEAD_CHUNKS);
        private boolean inputEnded;
        /** Replies taken and not yet wholly written. */
        private final ReplyGather gather = new ReplyGather(writes);
        /** A write is asked for once the task now running returns. */
        private boolean flushQueued;
        /** The socket took less than it was offered: nothing is written or pulled until it is writable. */
        private boolean blocked;
        private boolean closed;

        Logic() {
            super(shape);
            setHandler(received, new AbstractOutHandler() {
                @Override
                public void onPull() {
                    ByteString chunk = waiting.poll();
                    if (chunk != null) {
                        deliver(chunk);
                    } else if (inputEnded) {
                        complete(received);
                    }
                }

                @Override
                public void onDownstreamFinish(Throwable cause) {
                    // the flow reads no more (a connection that is closing): replies may still be leaving
                    interest(0, SelectionKey.OP_READ);
                }
            });
            setHandler(toSend, new AbstractInHandler() {
                @Override
                public void onPush() {
                    gather.add(grab(toSend).asByteBuffer());
                    EventLoop loop = EventLoop.current();
                    if (loop != null && !blocked && gather.hasRoom()) {
                        // the other replies of this run of the stream leave with this one, when it returns
                        if (!flushQueued) {
                            flushQueued = true;
                            loop.afterTask(flush);
                        }
                        pull(toSend);
                    } else if (!blocked) {
                        writeSome();
                    }
                }

                @Override
                public void onUpstreamFinish() {
                    if (gather.isEmpty()) {
                        close();
                    }
                }

                @Override
                public void onUpstreamFailure(Throwable failure) {
                    LOG.debug("connection {} fails: {}", describe(), failure.toString());
                    closeSocket();
                    failStage(failure);
                }
            });
        }

        @Override
        public void preStart() {
            arrived = createAsyncCallback(this::onArrival);
            writeInStage = createAsyncCallback(ready -> writeSome());
            // gathered replies may still be leaving when both ports have closed: the stage ends itself (close, failStage)
            setKeepGoing(true);
            EventLoop loop = EventLoop.current();
            int fd = loop == null ? -1 : ChannelFd.of(channel);
            try {
                readiness = fd >= 0 ? new SocketReadiness.OnLoop(loop, fd, this) : new SocketReadiness.OwnThread(channel, this);
                readiness.start();
            } catch (IOException e) {
                closeSocket();
                failStage(e);
                return;
            }
            pull(toSend);
        }

        @Override
        public void postStop() {
            closeSocket();
        }

        private void onArrival(Arrival arrival) {
            if (arrival instanceof Chunk chunk) {
                if (isAvailable(received) && waiting.isEmpty()) {
                    deliver(chunk.bytes());
                } else {
                    waiting.add(chunk.bytes());
                }
            } else if (arrival instanceof EndOfInput) {
                inputEnded = true;
                if (waiting.isEmpty() && !isClosed(received)) {
                    complete(received);
                }
            } else if (arrival instanceof ReadFailed failed) {
                LOG.debug("connection {}: read failed: {}", describe(), failed.failure().toString());
                closeSocket();
                failStage(failed.failure());
            }
        }

        /** Pushes a chunk and gives its permit back; a reader that ran out of permits reads again. */
        private void deliver(ByteString chunk) {
            push(received, chunk);
            permits.release();
            if (starved.compareAndSet(true, false)) {
                interest(SelectionKey.OP_READ, 0);
            }
        }

        /**
         * Runs on the loop outside the stage (no port may be touched here): writes what the task
         * gathered, and leaves anything beyond the common case (all written, the next reply
         * already asked for) to {@link #writeSome} in the stage.
         */
        private void endOfTask() {
            flushQueued = false;
            if (blocked || closed) {
                return;
            }
            try {
                if (gather.writeTo(channel) && hasBeenPulled(toSend)) {
                    return;
                }
            } catch (IOException e) {
                // writeSome meets it again, in the stage, and ends the connection
            }
            writeInStage.invoke(Boolean.TRUE);
        }

        private void writeSome() {
            if (closed) {
                return;
            }
            blocked = false;
            try {
                if (!gather.writeTo(channel)) {
                    blocked = true;
                    interest(SelectionKey.OP_WRITE, 0);
                    return;
                }
            } catch (IOException e) {
                LOG.debug("connection {}: write failed: {}", describe(), e.toString());
                closeSocket();
                failStage(e);
                return;
            }
            if (isClosed(toSend)) {
                close();
            } else if (!hasBeenPulled(toSend)) {
                pull(toSend);
            }
        }

        /** From the stage: adds and removes interest in readiness, at once. */
        private void interest(int add, int remove) {
            readiness.change(add, remove, false);
        }

        /** From the reader. False once the socket is gone. */
        private boolean readerInterest(int add, int remove) {
            return readiness.change(add, remove, true);
        }

        /** Everything sent: the connection ends. */
        private void close() {
            closeSocket();
            completeStage();
        }

        /** Closes the socket once, stops the reader thread and gives the connection's slot back. */
        private void closeSocket() {
            if (closed) {
                return;
            }
            closed = true;
            closing = true;
            if (readiness != null) {
                readiness.stop(); // before the close: the fd's number may be reused at once
            }
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("connection {}: close: {}", describe(), e.toString());
            }
            onClosed.run();
        }

        @Override
        public boolean closing() {
            return closing;
        }

        @Override
        public void writable() {
            writeInStage.invoke(Boolean.TRUE);
        }

        /** The reader: reads while there are bytes and permits; false when a read failed (the stage then closes). */
        @Override
        public boolean readAvailable(ByteBuffer buffer) {
            if (sawEnd) {
                readerInterest(0, SelectionKey.OP_READ);
                return true;
            }
            while (permits.tryAcquire()) {
                int n;
                try {
                    buffer.clear();
                    n = channel.read(buffer);
                } catch (IOException e) {
                    permits.release();
                    if (!closing) {
                        arrived.invoke(new ReadFailed(e));
                    }
                    return false;
                }
                if (n < 0) {
                    // the peer sent all it will; its replies may still be leaving, so keep selecting for writes
                    permits.release();
                    sawEnd = true;
                    readerInterest(0, SelectionKey.OP_READ);
                    arrived.invoke(new EndOfInput());
                    return true;
                }
                if (n == 0) {
                    permits.release();
                    return true;
                }
                byte[] bytes = new byte[n];
                buffer.flip().get(bytes);
                arrived.invoke(new Chunk(ByteString.fromArrayUnsafe(bytes)));
                if (n < buffer.capacity()) {
                    // a short read took all there was: readiness (level-triggered) says when there is more,
                    // and reading again now would only be a system call that finds nothing
                    return true;
                }
            }
            // both chunks are downstream: stop asking for reads until one is taken (deliver asks again);
            // interest goes off before the flag goes up, so a stage that clears the flag turns it on after
            readerInterest(0, SelectionKey.OP_READ);
            starved.set(true);
            if (permits.availablePermits() > 0 && starved.compareAndSet(true, false)) {
                readerInterest(SelectionKey.OP_READ, 0);
            }
            return true;
        }

        @Override
        public String describe() {
            try {
                return String.valueOf(channel.getRemoteAddress());
            } catch (IOException e) {
                return "(closed)";
            }
        }
    }
}
