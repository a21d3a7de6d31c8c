package dionode.protocol.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * Blocking reader of {@link Wire} frames from a stream. Each frame's declared length is judged with
 * {@link Wire#checkLength} before a single body byte is buffered, so a peer declaring a ~2 GiB frame
 * costs nothing but the connection.
 *
 * <p>Frames that fit the fixed read buffer are returned as a view into it (no copy, no allocation);
 * only a frame larger than the buffer gets an array of its own. Reads ask the stream for as much as
 * the buffer holds, so many small frames cost one {@code read} call.
 *
 * <pre>{@code
 * FrameReader frames = new FrameReader(socket.getInputStream(), maxPayload);
 * while (frames.next()) {
 *     Object message = codec.decodeBody(frames.body(), frames.bodyOffset(), frames.bodyLength());
 *     handle(frames.requestId(), message);
 * }
 * }</pre>
 *
 * <p>Not thread-safe: confine an instance to the one thread that reads its stream. The view
 * ({@link #body()}, {@link #bodyOffset()}, {@link #bodyLength()}, {@link #requestId()}) is valid
 * only until the next call to {@link #next()}.
 */
public final class FrameReader {
    /** Default read buffer: frames up to this size (header included) are never copied. */
    public static final int DEFAULT_BUFFER_BYTES = 64 << 10;

    private final InputStream in;
    private final int maxPayload;
    private final byte[] buf;
    private int pos;
    private int lim;

    private long requestId;
    private byte[] body;
    private int bodyOffset;
    private int bodyLength;

    public FrameReader(InputStream in, int maxPayload) {
        this(in, maxPayload, DEFAULT_BUFFER_BYTES);
    }

    public FrameReader(InputStream in, int maxPayload, int bufferBytes) {
        if (maxPayload < 0) {
            throw new IllegalArgumentException("maxPayload " + maxPayload + " < 0");
        }
        if (bufferBytes < Wire.HEADER_BYTES) {
            throw new IllegalArgumentException("buffer of " + bufferBytes + " bytes cannot hold a frame header");
        }
        this.in = Objects.requireNonNull(in, "in");
        this.maxPayload = maxPayload;
        this.buf = new byte[bufferBytes];
    }

    /**
     * Reads the next frame.
     *
     * @return false on a clean end of stream (at a frame boundary)
     * @throws MalformedFrameException when the declared length is shorter than the request id or
     *     the body would exceed the maximum payload; nothing of that frame's body has been buffered
     * @throws EOFException when the stream ends inside a frame
     */
    public boolean next() throws IOException, MalformedFrameException {
        if (!ensure(Wire.LENGTH_BYTES, true)) {
            return false;
        }
        long declared = Integer.toUnsignedLong(getInt(buf, pos));
        String bad = Wire.checkLength(declared, maxPayload);
        if (bad != null) {
            throw new MalformedFrameException(bad);
        }
        pos += Wire.LENGTH_BYTES;
        int length = (int) declared;
        if (length <= buf.length) {
            ensure(length, false);
            requestId = getLong(buf, pos);
            body = buf;
            bodyOffset = pos + Wire.ID_BYTES;
            bodyLength = length - Wire.ID_BYTES;
            pos += length;
        } else {
            ensure(Wire.ID_BYTES, false);
            requestId = getLong(buf, pos);
            pos += Wire.ID_BYTES;
            int n = length - Wire.ID_BYTES;
            byte[] own = new byte[n];
            int buffered = Math.min(lim - pos, n);
            System.arraycopy(buf, pos, own, 0, buffered);
            pos += buffered;
            int got = buffered;
            while (got < n) {
                int r = in.read(own, got, n - got);
                if (r < 0) {
                    throw new EOFException("stream ended inside a frame body (" + got + " of " + n + " bytes)");
                }
                got += r;
            }
            body = own;
            bodyOffset = 0;
            bodyLength = n;
        }
        return true;
    }

    /** The request id of the current frame. */
    public long requestId() {
        return requestId;
    }

    /** The array holding the current frame's body (often the shared read buffer: do not keep it). */
    public byte[] body() {
        return body;
    }

    public int bodyOffset() {
        return bodyOffset;
    }

    public int bodyLength() {
        return bodyLength;
    }

    /** Makes at least {@code n <= buf.length} unread bytes available in {@code buf[pos..lim)}. */
    private boolean ensure(int n, boolean eofAllowedHere) throws IOException {
        if (lim - pos >= n) {
            return true;
        }
        if (buf.length - pos < n) {
            int unread = lim - pos;
            System.arraycopy(buf, pos, buf, 0, unread);
            pos = 0;
            lim = unread;
        }
        while (lim - pos < n) {
            int r = in.read(buf, lim, buf.length - lim);
            if (r < 0) {
                if (eofAllowedHere && lim == pos) {
                    return false;
                }
                throw new EOFException("stream ended inside a frame (" + (lim - pos) + " of " + n + " bytes)");
            }
            lim += r;
        }
        return true;
    }

    static int getInt(byte[] b, int i) {
        return (b[i] & 0xff) << 24 | (b[i + 1] & 0xff) << 16 | (b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff);
    }

    static long getLong(byte[] b, int i) {
        return (long) getInt(b, i) << 32 | (getInt(b, i + 4) & 0xffffffffL);
    }
}
