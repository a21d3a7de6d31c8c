package dionode.protocol.client;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.tls.TlsFiles;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.MalformedFrameException;
import dionode.protocol.wire.Wire;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The asynchronous client of one dionode node over one TCP connection (DESIGN §6).
 *
 * <h2>Wire</h2>
 * Frames exactly as {@link Wire} documents them, bodies by {@link KryoCodec}. Request ids are
 * assigned by the client, increasing (ids of still-outstanding requests are skipped, so there may be
 * gaps). Up to {@link ClientOptions#maxInFlight()} requests are outstanding at once and replies are
 * matched by id in whatever order the node sends them.
 *
 * <h2>Results and failures</h2>
 * Every operation returns a {@link CompletionStage}. A {@link Reply.Error} completes it
 * exceptionally with a {@link NodeException} carrying the node's {@link Errno} and message
 * ({@code join()} throws it wrapped in a {@code CompletionException}); a reply of the wrong type is
 * a {@code NodeException(EBADMSG)} for that request only. {@link #send(Request)} returns the raw
 * reply, {@code Reply.Error} included.
 * <ul>
 *   <li>A message too big for a frame fails that call with {@code EINVAL}; the connection is not
 *       touched.
 *   <li>When the connection is closed ({@link #close()}, the node hanging up) or lost (an I/O
 *       error), every outstanding request fails with {@code NodeException(EIO, "connection to
 *       host:port closed/lost: ...")}; no future is ever left hanging.
 *   <li>A reply frame whose declared length is negative or too big (judged before anything is
 *       buffered), whose body cannot be decoded, or that answers no outstanding request, closes the
 *       connection and fails every outstanding request with {@code EBADMSG}.
 *   <li>Once closed, every later call returns an already-failed stage with the errno and message of
 *       the close.
 * </ul>
 *
 * <h2>Back-pressure</h2>
 * A call made while {@code maxInFlight} requests are outstanding blocks in the call until a reply
 * frees a slot, so a synchronous caller never queues without bound. {@link #inFlight()} and
 * {@link #availableSlots()} let tools look before they call. If the waiting thread is interrupted
 * the call fails with {@code EAGAIN} and the interrupt flag stays set.
 *
 * <h2>Threads</h2>
 * The calling thread encodes its request, into an array that thread reuses for its next frame (so a
 * stream of writes allocates no frame), and writes the frame (writes are serialized by a lock; a
 * writer with nobody queued behind it writes its frame straight to the socket, uncopied, while one
 * with a writer queued behind it leaves its frame buffered for that one to send with its own, so
 * concurrent callers batch into fewer packets; {@link #corked} holds a burst back to write it in one).
 * One daemon reader thread per connection, named
 * {@code dionode-client-reader-host:port}, decodes replies and completes the futures, except
 * while a caller waits in {@link #sync}: that caller reads the replies itself ({@link ReplyReader}).
 * <b>Dependent
 * stages ({@code thenApply}, {@code thenAccept}, ...) therefore run on the reader thread</b> (or on
 * the caller's thread if the stage is already complete): keep them short and non-blocking, or use
 * the {@code ...Async(fn, executor)} variants with an executor of your own. The slot of a request is
 * freed before its future completes, so a callback may issue one new request per reply; should a
 * callback on the reader thread find no free slot, its call fails at once with {@code EAGAIN}
 * instead of deadlocking the reader. A callback that writes large requests may still block the
 * reader on a full socket while the node blocks on us: send from an executor in that case.
 *
 * <p>Byte arrays passed to {@link #write} are encoded before the call returns; the caller may reuse
 * them at once.
 *
 * <p>Thread-safe: any number of threads may call any method concurrently.
 */
public final class NodeClient implements NodeApi {
    private static final int OUTPUT_BUFFER_BYTES = 64 << 10;

    private final String endpoint;
    private final ClientOptions options;
    private final KryoCodec codec;
    private final Socket socket;
    private final OutputStream out;
    /** The socket's own stream under {@link #out}: a frame nobody is queued behind goes straight to it, uncopied. */
    private final OutputStream raw;
    /** Serializes frame writes and guards {@link #nextId}. */
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Semaphore slots;
    /** Outstanding calls at {@code id & mask}; at least twice maxInFlight slots, so rarely probed. */
    private final AtomicReferenceArray<Call<?>> table;
    private final int mask;
    private final AtomicReference<NodeException> closeCause = new AtomicReference<>();
    private final ReplyReader reader;
    /** The thread whose frames wait in {@link #out} until its {@link #corked} call returns; null when none does. */
    private volatile Thread corkedBy;
    private long nextId = 1;

    private NodeClient(String endpoint, ClientOptions options, Socket socket) throws IOException {
        this.endpoint = endpoint;
        this.options = options;
        this.codec = new KryoCodec(options.maxPayload());
        this.socket = socket;
        this.raw = socket.getOutputStream();
        this.out = new BufferedOutputStream(raw, OUTPUT_BUFFER_BYTES);
        this.slots = new Semaphore(options.maxInFlight());
        int size = Integer.highestOneBit(options.maxInFlight() * 4 - 1); // power of two >= 2 * maxInFlight
        this.table = new AtomicReferenceArray<>(size);
        this.mask = size - 1;
        this.reader = new ReplyReader(endpoint, socket.getInputStream(), options.maxPayload(), codec, new ReplyReader.Sink() {
            @Override
            public void reply(long requestId, Object message) throws MalformedFrameException {
                dispatch(requestId, message);
            }

            @Override
            public boolean outstanding() {
                return slots.availablePermits() < options.maxInFlight();
            }

            @Override
            public void closed(NodeException cause) {
                closeWith(cause);
            }
        });
    }

    /** Connects with {@link ClientOptions#defaults()}. */
    public static NodeClient connect(String host, int port) throws IOException {
        return connect(host, port, ClientOptions.defaults());
    }

    /**
     * Opens the connection and starts its reader thread.
     *
     * @throws IOException when the node cannot be reached within the connect timeout
     */
    public static NodeClient connect(String host, int port, ClientOptions options) throws IOException {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(options, "options");
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(options.tcpNoDelay());
            socket.setKeepAlive(true);
            socket.connect(new InetSocketAddress(host, port), (int) options.connectTimeout().toMillis());
            if (options.tls() != null) {
                socket = startTls(socket, host, port, options);
            }
            NodeClient client = new NodeClient(host + ":" + port, options, socket);
            client.reader.start();
            return client;
        } catch (IOException | RuntimeException e) {
            try {
                socket.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * TLS 1.3 over the connected socket, the node's certificate checked against the CA and against
     * {@code host} (as HTTPS does); the handshake is bounded by the connect timeout.
     */
    private static Socket startTls(Socket plain, String host, int port, ClientOptions options) throws IOException {
        SSLSocket tls = (SSLSocket) options.tls().getSocketFactory().createSocket(plain, host, port, true);
        SSLParameters params = tls.getSSLParameters();
        params.setProtocols(new String[] {TlsFiles.PROTOCOL});
        params.setEndpointIdentificationAlgorithm("HTTPS");
        tls.setSSLParameters(params);
        tls.setSoTimeout((int) options.connectTimeout().toMillis());
        try {
            tls.startHandshake();
        } catch (IOException e) {
            tls.close();
            throw new IOException("TLS with " + host + ":" + port + " failed: " + e.getMessage(), e);
        }
        tls.setSoTimeout(0);
        return tls;
    }

    // ---------------------------------------------------------------- operations (documented in NodeApi)

    @Override
    public CompletionStage<Reply.InodeInfo> create(Request.Create create) {
        return submit(create, Replies.INODE_INFO);
    }

    @Override
    public CompletionStage<Reply.InodeInfo> lookup(String name) {
        return submit(new Request.Lookup(name), Replies.INODE_INFO);
    }

    @Override
    public CompletionStage<Void> unlink(String name) {
        return submit(new Request.Unlink(name), Replies.DONE);
    }

    @Override
    public CompletionStage<List<Reply.DirEntry>> list() {
        return submit(new Request.ListFiles(), Replies.FILE_LIST);
    }

    @Override
    public CompletionStage<Long> write(FileId file, long offset, byte[] data, int flags) {
        return submit(new Request.Write(file, offset, data, flags), Replies.WRITTEN);
    }

    @Override
    public CompletionStage<byte[]> read(FileId file, long offset, int length, int flags) {
        return submit(new Request.Read(file, offset, length, flags), Replies.DATA);
    }

    @Override
    public CompletionStage<Void> fsync(FileId file) {
        return submit(new Request.Fsync(file), Replies.DONE);
    }

    @Override
    public CompletionStage<Void> fallocate(FileId file, long offset, long length, boolean keepSize) {
        return submit(new Request.Fallocate(file, offset, length, keepSize), Replies.DONE);
    }

    @Override
    public CompletionStage<Void> punchHole(FileId file, long offset, long length) {
        return submit(new Request.PunchHole(file, offset, length), Replies.DONE);
    }

    @Override
    public CompletionStage<Void> zeroRange(FileId file, long offset, long length, boolean allowUnwritten) {
        return submit(new Request.ZeroRange(file, offset, length, allowUnwritten), Replies.DONE);
    }

    @Override
    public CompletionStage<Void> truncate(FileId file, long size) {
        return submit(new Request.Truncate(file, size), Replies.DONE);
    }

    @Override
    public CompletionStage<Reply.FileStat> stat(FileId file) {
        return submit(new Request.Stat(file), Replies.FILE_STAT);
    }

    @Override
    public CompletionStage<List<Reply.FiemapExtent>> fiemap(FileId file, long offset, long length) {
        return submit(new Request.Fiemap(file, offset, length), Replies.FIEMAP);
    }

    @Override
    public CompletionStage<Void> chmod(FileId file, int mode) {
        return submit(new Request.Chmod(file, mode), Replies.DONE);
    }

    @Override
    public CompletionStage<Reply.Explanation> explain(FileId file, long offset, long length, boolean nowait) {
        return submit(new Request.Explain(file, offset, length, nowait), Replies.EXPLANATION);
    }

    @Override
    public CompletionStage<Map<String, Long>> stats() {
        return submit(new Request.GetStats(), Replies.STATS);
    }

    @Override
    public CompletionStage<List<Reply.Member>> members() {
        return submit(new Request.Members(), Replies.MEMBERS);
    }

    @Override
    public CompletionStage<Reply> send(Request request) {
        Objects.requireNonNull(request, "request");
        return submit(request, Replies.RAW, true);
    }

    /**
     * Makes {@code call} (calls of this client) and waits for the stage it returns, reading this
     * connection's replies in the calling thread meanwhile instead of being woken by the reader
     * thread: one thread hand-over less per request, for callers that wait for each reply anyway.
     * Failures throw as {@code join()} does ({@link java.util.concurrent.CompletionException}
     * carrying the {@link NodeException}). Reply callbacks of other calls may run on this thread
     * while it waits. Do not call it from a reply callback.
     */
    public <T> T sync(Supplier<? extends CompletionStage<T>> call) {
        reader.enter();
        CompletableFuture<T> stage;
        try {
            stage = call.get().toCompletableFuture();
        } catch (RuntimeException | Error e) {
            reader.leave();
            throw e;
        }
        if (corkedBy == Thread.currentThread()) {
            sendHeld();
        }
        return reader.await(stage);
    }

    /**
     * Makes {@code sends} (calls of this client that send and do not wait for their replies) with
     * the frames they write held back, and writes them together when it returns: one system call
     * for a burst of pipelined requests, which the node then also reads in one. Returns what
     * {@code sends} returns. Frames of other threads meanwhile go out as usual (and take the held
     * ones along, in order). A call that finds every in-flight slot taken, or that waits in
     * {@link #sync}, sends what is held first, so nothing ever waits on a frame not yet sent; do
     * not wait for a reply inside {@code sends} otherwise. Nested calls join the outer one.
     */
    public <T> T corked(Supplier<T> sends) {
        if (corkedBy == Thread.currentThread()) {
            return sends.get();
        }
        corkedBy = Thread.currentThread();
        try {
            return sends.get();
        } finally {
            corkedBy = null;
            sendHeld();
        }
    }

    /** Writes the frames {@link #corked} held back, if any. */
    private void sendHeld() {
        writeLock.lock();
        try {
            out.flush();
        } catch (IOException e) {
            closeWith(NodeException.lost(endpoint, e));
        } finally {
            writeLock.unlock();
        }
    }

    // ---------------------------------------------------------------- state

    /** Requests currently holding a slot (sent or being sent, not yet answered). */
    public int inFlight() {
        return options.maxInFlight() - slots.availablePermits();
    }

    /** Slots free right now: calls that would not block. */
    public int availableSlots() {
        return slots.availablePermits();
    }

    public boolean isOpen() {
        return closeCause.get() == null;
    }

    /** Why the connection was closed, or null while it is open. */
    public NodeException closeCause() {
        return closeCause.get();
    }

    public ClientOptions options() {
        return options;
    }

    /** {@code host:port} as given to {@link #connect}. */
    public String endpoint() {
        return endpoint;
    }

    /**
     * Closes the connection, failing every outstanding request with {@code EIO}. Idempotent. Waits
     * briefly for the reader thread to end unless called from it.
     */
    @Override
    public void close() {
        closeWith(new NodeException(Errno.EIO, "connection to " + endpoint + " closed by the client", null, false));
        try {
            reader.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        NodeException cause = closeCause.get();
        return "NodeClient[" + endpoint + ", " + (cause == null ? "open" : cause.getMessage()) + ", inFlight=" + inFlight() + "]";
    }

    // ---------------------------------------------------------------- sending

    private <T> CompletionStage<T> submit(Request request, Function<Reply, T> convert) {
        return submit(request, convert, false);
    }

    private <T> CompletionStage<T> submit(Request request, Function<Reply, T> convert, boolean errorsAsValues) {
        NodeException closed = closeCause.get();
        if (closed != null) {
            return CompletableFuture.failedFuture(new NodeException(closed.errno(), closed.detail(), closed.getCause()));
        }
        NodeException noSlot = acquireSlot();
        if (noSlot != null) {
            return CompletableFuture.failedFuture(noSlot);
        }
        // Encoded once the slot is ours: from here to the write this thread runs no callback that could encode
        // another frame into the same reused array. The id is patched in under the write lock.
        KryoCodec.Reused frame;
        try {
            frame = codec.encodeFrameReusing(0L, request);
        } catch (IllegalArgumentException e) {
            slots.release();
            return CompletableFuture.failedFuture(new NodeException(Errno.EINVAL, e.getMessage(), e));
        }
        Call<T> call = new Call<>(convert, errorsAsValues);
        writeLock.lock();
        try {
            if (closeCause.get() != null) {
                slots.release();
                call.completeExceptionally(closeCause.get().copy());
                return call;
            }
            // Fewer than table.length() calls are registered (each holds a slot), so this ends.
            long id = nextId;
            int slot;
            while (table.get(slot = (int) id & mask) != null) {
                id++;
            }
            nextId = id + 1;
            call.id = id;
            putLong(frame.bytes(), Wire.LENGTH_BYTES, id);
            table.set(slot, call);
            // A close that swept the table before our set must not leave us hanging.
            NodeException cause = closeCause.get();
            if (cause != null) {
                if (table.compareAndSet(slot, call, null)) {
                    slots.release();
                    call.completeExceptionally(cause.copy());
                }
                return call;
            }
            try {
                if (corkedBy == Thread.currentThread() || writeLock.hasQueuedThreads()) {
                    out.write(frame.bytes(), 0, frame.length()); // the writer queued behind, or the end of the corked burst, flushes it
                } else {
                    out.flush(); // what earlier writers left buffered goes first
                    raw.write(frame.bytes(), 0, frame.length());
                }
            } catch (IOException e) {
                closeWith(NodeException.lost(endpoint, e));
            }
            reader.sent();
            return call;
        } finally {
            writeLock.unlock();
        }
    }

    /** Takes an in-flight slot, blocking while there is none; null on success. */
    private NodeException acquireSlot() {
        if (reader.isReaderThread()) {
            return slots.tryAcquire() ? null : new NodeException(Errno.EAGAIN,
                    "all " + options.maxInFlight() + " in-flight slots are taken and this call runs on the reader thread of "
                            + endpoint + " (blocking would deadlock it): send from an executor");
        }
        if (slots.tryAcquire()) {
            return null;
        }
        if (corkedBy == Thread.currentThread()) {
            sendHeld(); // the replies that free a slot may be to frames held here
        }
        int reading = reader.standAside(); // a sync caller waiting here reads nothing: the reader thread must
        try {
            slots.acquire();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new NodeException(Errno.EAGAIN, "interrupted while waiting for an in-flight slot on " + endpoint, e);
        } finally {
            reader.stepBack(reading);
        }
    }

    /** Marks the client closed (first cause wins), closes the socket and fails every outstanding call. */
    private void closeWith(NodeException cause) {
        if (!closeCause.compareAndSet(null, cause)) {
            return;
        }
        reader.stop();
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (int i = 0; i < table.length(); i++) {
            Call<?> call = table.get(i);
            if (call != null && table.compareAndSet(i, call, null)) {
                slots.release();
                call.completeExceptionally(cause.copy());
            }
        }
    }

    // ---------------------------------------------------------------- receiving

    private void dispatch(long id, Object message) throws MalformedFrameException {
        int slot = (int) id & mask;
        Call<?> call = table.get(slot);
        if (call == null || call.id != id) {
            throw new MalformedFrameException("reply to request id " + id + ", which is not outstanding");
        }
        if (!table.compareAndSet(slot, call, null)) {
            return; // failed by a concurrent close
        }
        slots.release(); // before completing: a callback may send the next request
        call.deliver(message);
    }

    private static void putLong(byte[] b, int i, long v) {
        for (int k = 7; k >= 0; k--) {
            b[i + k] = (byte) v;
            v >>>= 8;
        }
    }
}
