package dionode.node.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small blocking NBD client for protocol tests: speaks every step by hand, so tests can also
 * send what real clients never would. Confined to one thread.
 */
final class TestNbdClient implements AutoCloseable {
    record OptReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    record SimpleReply(int error, long handle, byte[] data) {
    }

    /** INFO/GO result: the error reply type, or the info replies by info type. */
    record Go(int errorType, String message, Map<Integer, ByteBuffer> infos) {
        long size() {
            return infos.get(Nbd.INFO_EXPORT).getLong(2);
        }

        int flags() {
            return Short.toUnsignedInt(infos.get(Nbd.INFO_EXPORT).getShort(10));
        }

        int[] blockSizes() {
            ByteBuffer b = infos.get(Nbd.INFO_BLOCK_SIZE);
            return new int[] {b.getInt(2), b.getInt(6), b.getInt(10)};
        }
    }

    /** One structured reply chunk as received. */
    record Chunk(int flags, int type, long handle, byte[] payload) {
        boolean done() {
            return (flags & Nbd.REPLY_FLAG_DONE) != 0;
        }

        ByteBuffer body() {
            return ByteBuffer.wrap(payload);
        }

        /** An error chunk's error value. */
        int error() {
            return body().getInt(0);
        }

        /** An error chunk's message. */
        String message() {
            int len = Short.toUnsignedInt(body().getShort(4));
            return new String(payload, 6, len, StandardCharsets.UTF_8);
        }

        long offset() {
            return body().getLong(0);
        }

        /** OFFSET_DATA's bytes. */
        byte[] data() {
            return java.util.Arrays.copyOfRange(payload, 8, payload.length);
        }

        /** OFFSET_HOLE's size. */
        long holeSize() {
            return Integer.toUnsignedLong(body().getInt(8));
        }

        /** BLOCK_STATUS: context id. */
        int contextId() {
            return body().getInt(0);
        }

        /** BLOCK_STATUS: descriptors as (length, flags) pairs. */
        List<long[]> descriptors() {
            List<long[]> out = new ArrayList<>();
            ByteBuffer b = body();
            b.position(4);
            while (b.remaining() >= 8) {
                out.add(new long[] {Integer.toUnsignedLong(b.getInt()), Integer.toUnsignedLong(b.getInt())});
            }
            return out;
        }
    }

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    int handshakeFlags;
    /** Bytes a READ of this handle will bring back. */
    private final Map<Long, Integer> readLengths = new HashMap<>();

    TestNbdClient(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setSoTimeout(30_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
    }

    /** Connects, checks the greeting and sends the client flags. */
    static TestNbdClient open(int port, int clientFlags) throws IOException {
        TestNbdClient c = new TestNbdClient("127.0.0.1", port);
        c.greeting();
        c.out.writeInt(clientFlags);
        c.out.flush();
        return c;
    }

    static TestNbdClient open(int port) throws IOException {
        return open(port, Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
    }

    /** Opens, GOes to {@code export} and checks it worked. */
    static TestNbdClient transmission(int port, String export) throws IOException {
        TestNbdClient c = open(port);
        Go go = c.go(export, Nbd.INFO_BLOCK_SIZE);
        if (go.errorType() != 0) {
            throw new IOException("GO " + export + ": " + go.message());
        }
        return c;
    }

    void greeting() throws IOException {
        long magic = in.readLong();
        long opt = in.readLong();
        if (magic != Nbd.NBDMAGIC || opt != Nbd.IHAVEOPT) {
            throw new IOException("bad greeting " + Long.toHexString(magic) + " " + Long.toHexString(opt));
        }
        handshakeFlags = in.readUnsignedShort();
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.writeLong(Nbd.IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    OptReply readOptReply() throws IOException {
        long magic = in.readLong();
        if (magic != Nbd.OPT_REPLY_MAGIC) {
            throw new IOException("bad option reply magic " + Long.toHexString(magic));
        }
        int option = in.readInt();
        int type = in.readInt();
        int len = in.readInt();
        byte[] data = new byte[len];
        in.readFully(data);
        return new OptReply(option, type, data);
    }

    static byte[] infoData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
        b.putInt(n.length).put(n).putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    Go info(int option, String name, int... infos) throws IOException {
        sendOption(option, infoData(name, infos));
        Map<Integer, ByteBuffer> got = new HashMap<>();
        while (true) {
            OptReply r = readOptReply();
            if (r.option() != option) {
                throw new IOException("reply for option " + r.option() + ", expected " + option);
            }
            if (r.type() == Nbd.REP_ACK) {
                return new Go(0, null, got);
            }
            if (r.type() == Nbd.REP_INFO) {
                ByteBuffer b = ByteBuffer.wrap(r.data());
                got.put(Short.toUnsignedInt(b.getShort(0)), b);
                continue;
            }
            return new Go(r.type(), r.text(), got);
        }
    }

    Go go(String name, int... infos) throws IOException {
        return info(Nbd.OPT_GO, name, infos);
    }

    List<String> list() throws IOException {
        sendOption(Nbd.OPT_LIST, new byte[0]);
        List<String> names = new ArrayList<>();
        while (true) {
            OptReply r = readOptReply();
            if (r.type() == Nbd.REP_ACK) {
                return names;
            }
            if (r.type() != Nbd.REP_SERVER) {
                throw new IOException("LIST reply type " + Integer.toHexString(r.type()));
            }
            ByteBuffer b = ByteBuffer.wrap(r.data());
            int len = b.getInt();
            names.add(new String(r.data(), 4, len, StandardCharsets.UTF_8));
        }
    }

    void request(int flags, int type, long handle, long offset, long length, byte[] payload) throws IOException {
        out.writeInt(Nbd.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt((int) length);
        if (payload != null) {
            out.write(payload);
        }
        if (type == Nbd.CMD_READ) {
            readLengths.put(handle, (int) length);
        }
    }

    void write(long handle, long offset, byte[] data, int flags) throws IOException {
        request(flags, Nbd.CMD_WRITE, handle, offset, data.length, data);
    }

    void read(long handle, long offset, int length) throws IOException {
        request(0, Nbd.CMD_READ, handle, offset, length, null);
    }

    void flush() throws IOException {
        out.flush();
    }

    /** The next reply; a successful READ's data is read along (its length known from the request). */
    SimpleReply reply() throws IOException {
        int magic = in.readInt();
        if (magic != Nbd.SIMPLE_REPLY_MAGIC) {
            throw new IOException("bad reply magic " + Integer.toHexString(magic));
        }
        int error = in.readInt();
        long handle = in.readLong();
        Integer len = readLengths.remove(handle);
        byte[] data = null;
        if (len != null && error == 0) {
            data = new byte[len];
            in.readFully(data);
        }
        return new SimpleReply(error, handle, data);
    }

    /** Asks for structured replies: the reply type (REP_ACK when granted). */
    int structuredReplies() throws IOException {
        sendOption(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
        return readOptReply().type();
    }

    static byte[] metaData(String export, String... queries) {
        byte[] n = export.getBytes(StandardCharsets.UTF_8);
        int len = 4 + n.length + 4;
        for (String q : queries) {
            len += 4 + q.getBytes(StandardCharsets.UTF_8).length;
        }
        ByteBuffer b = ByteBuffer.allocate(len).putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        return b.array();
    }

    /** LIST or SET_META_CONTEXT: the contexts named (id -> name), or null when refused (the error type in {@link #lastError}). */
    Map<Integer, String> metaContext(int option, byte[] data) throws IOException {
        sendOption(option, data);
        Map<Integer, String> got = new HashMap<>();
        while (true) {
            OptReply r = readOptReply();
            if (r.type() == Nbd.REP_ACK) {
                return got;
            }
            if (r.type() != Nbd.REP_META_CONTEXT) {
                lastError = r.type();
                return null;
            }
            got.put(ByteBuffer.wrap(r.data()).getInt(), new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8));
        }
    }

    int lastError;

    /** Opens, negotiates structured replies and base:allocation for {@code export}, then GOes. */
    static TestNbdClient structured(int port, String export) throws IOException {
        TestNbdClient c = open(port);
        if (c.structuredReplies() != Nbd.REP_ACK) {
            throw new IOException("structured replies refused");
        }
        Map<Integer, String> ids = c.metaContext(Nbd.OPT_SET_META_CONTEXT, metaData(export, Nbd.META_BASE_ALLOCATION));
        if (ids == null || !ids.containsValue(Nbd.META_BASE_ALLOCATION)) {
            throw new IOException("base:allocation not selected: " + ids);
        }
        Go go = c.go(export, Nbd.INFO_BLOCK_SIZE);
        if (go.errorType() != 0) {
            throw new IOException("GO " + export + ": " + go.message());
        }
        c.exportFlags = go.flags();
        return c;
    }

    int exportFlags;

    Chunk readChunk() throws IOException {
        int magic = in.readInt();
        if (magic != Nbd.STRUCTURED_REPLY_MAGIC) {
            throw new IOException("bad structured reply magic " + Integer.toHexString(magic));
        }
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long handle = in.readLong();
        int len = in.readInt();
        byte[] payload = new byte[len];
        in.readFully(payload);
        return new Chunk(flags, type, handle, payload);
    }

    /** Every chunk of the next structured reply (nothing else may be in flight), up to the one flagged done. */
    List<Chunk> chunks() throws IOException {
        List<Chunk> out = new ArrayList<>();
        Chunk c;
        do {
            c = readChunk();
            out.add(c);
        } while (!c.done());
        return out;
    }

    /** Type of the pseudo chunk {@link #anyReply} makes of a simple reply; its payload is the error. */
    static final int SIMPLE = -1;

    /**
     * The next reply, simple or structured (nothing else may be in flight); a simple reply is one
     * pseudo chunk of type {@link #SIMPLE}, flagged done, whose payload is its error (no data).
     */
    List<Chunk> anyReply() throws IOException {
        in.mark(4);
        int magic = in.readInt();
        in.reset();
        if (magic != Nbd.SIMPLE_REPLY_MAGIC) {
            return chunks();
        }
        in.readInt();
        int error = in.readInt();
        long handle = in.readLong();
        return List.of(new Chunk(Nbd.REPLY_FLAG_DONE, SIMPLE, handle, ByteBuffer.allocate(4).putInt(error).array()));
    }

    /** Sends a request and reads its whole structured reply. */
    List<Chunk> callStructured(int flags, int type, long offset, long length, byte[] payload) throws IOException {
        request(flags, type, 77, offset, length, payload);
        readLengths.remove(77L);
        flush();
        return chunks();
    }

    /** Sends a request and waits for its reply (nothing else may be in flight). */
    SimpleReply call(int flags, int type, long offset, long length, byte[] payload) throws IOException {
        request(flags, type, 77, offset, length, payload);
        flush();
        return reply();
    }

    /** True once the server has closed the connection (EOF within the timeout). */
    boolean closedByServer() throws IOException {
        socket.setSoTimeout(10_000);
        try {
            while (in.read() >= 0) {
                // drain whatever was still coming
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException e) {
            return true;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
