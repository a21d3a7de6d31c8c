package dionode.protocol.client;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.Wire;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A test-only stand-in for a node: accepts one connection on 127.0.0.1, decodes request frames with
 * {@link KryoCodec} (independently of the client's frame reader) and answers only when told, or, in
 * auto mode, answers every batch of requests that arrived together in reverse order. Thread-safe.
 */
final class FakeNode implements AutoCloseable {
    record Received(long id, Object message) {
    }

    private final ServerSocket server;
    private final KryoCodec codec = new KryoCodec();
    private final Function<Object, Reply> auto;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final CountDownLatch connected = new CountDownLatch(1);
    private final Thread thread;
    private volatile Socket socket;
    private volatile OutputStream out;

    /** Answers only through {@link #reply}. */
    FakeNode() throws IOException {
        this(null);
    }

    /** With {@code auto} non-null, every request is answered with {@code auto.apply(request)}. */
    FakeNode(Function<Object, Reply> auto) throws IOException {
        this.auto = auto;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.thread = new Thread(this::serve, "fake-node");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** An auto answer: a write is answered with the offset it reaches, anything else with EINVAL. */
    static Reply written(Object request) {
        return request instanceof Request.Write w ? new Reply.Written(w.offset() + w.data().length)
                : new Reply.Error(Errno.EINVAL, "unexpected " + request);
    }

    int port() {
        return server.getLocalPort();
    }

    NodeClient connect(ClientOptions options) throws IOException {
        return NodeClient.connect("127.0.0.1", port(), options);
    }

    /** The next request the node received (fails the test after 5 s). */
    Received take() throws InterruptedException {
        Received r = received.poll(5, TimeUnit.SECONDS);
        assertNotNull(r, "the fake node received no request within 5 s");
        return r;
    }

    int receivedWaiting() {
        return received.size();
    }

    void reply(long id, Reply reply) throws IOException {
        sendRaw(codec.encodeFrame(id, reply));
    }

    synchronized void sendRaw(byte[] bytes) throws IOException {
        awaitConnection();
        out.write(bytes);
        out.flush();
    }

    /** Closes the accepted connection, as a node that goes away would. */
    void dropConnection() throws IOException {
        awaitConnection();
        socket.close();
    }

    private void awaitConnection() throws IOException {
        try {
            if (!connected.await(5, TimeUnit.SECONDS)) {
                throw new IOException("no client connected");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private void serve() {
        try (Socket s = server.accept()) {
            s.setTcpNoDelay(true);
            socket = s;
            out = new BufferedOutputStream(s.getOutputStream(), 64 << 10);
            connected.countDown();
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 64 << 10));
            List<Received> batch = new ArrayList<>();
            while (true) {
                int length = in.readInt();
                if (Wire.checkLength(Integer.toUnsignedLong(length), Wire.DEFAULT_MAX_PAYLOAD) != null) {
                    throw new IOException("bad frame length " + length);
                }
                long id = in.readLong();
                byte[] body = new byte[length - Wire.ID_BYTES];
                in.readFully(body);
                Received r = new Received(id, codec.decodeBody(body, 0, body.length));
                if (auto == null) {
                    received.add(r);
                    continue;
                }
                batch.add(r);
                if (in.available() == 0) { // answer what came together, last first
                    synchronized (this) {
                        for (int i = batch.size() - 1; i >= 0; i--) {
                            out.write(codec.encodeFrame(batch.get(i).id(), auto.apply(batch.get(i).message())));
                        }
                        out.flush();
                    }
                    batch.clear();
                }
            }
        } catch (EOFException | java.net.SocketException e) {
            // client or test closed the connection
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        Socket s = socket;
        if (s != null) {
            s.close();
        }
    }
}
