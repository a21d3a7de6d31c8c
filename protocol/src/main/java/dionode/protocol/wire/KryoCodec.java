package dionode.protocol.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Kryo encoding of requests and replies with fixed registration ids and
 * {@code registrationRequired=true}: no class name ever crosses the wire, and a body naming an id
 * that is not in {@link #REGISTRATIONS} is refused, never instantiated. Thread-safe (Kryo instances
 * come from a pool).
 *
 * <p>Decoding is bounded by the body, whatever it declares: a class named on the wire is refused
 * ({@link RegisteredOnlyClassResolver}); objects nest at most {@link #MAX_DEPTH} deep (no message
 * needs more than four), so no body can exhaust the stack; every declared string, byte array, list
 * and map size is judged against the bytes left before anything of that size is allocated
 * ({@link BoundedInput}); and lists hold only the two element types messages use. So a body of n
 * bytes decodes into at most a few times n bytes of heap, and every failure is a
 * {@link MalformedFrameException}.
 */
public final class KryoCodec {

    /**
     * The wire's class table. Ids are part of the format: append, never renumber or reuse. Kryo's
     * own ids 0-9 are its primitives and String.
     */
    private static final List<Class<?>> REGISTRATIONS = List.of(
            /* 20 */ byte[].class,
            /* 21 */ Errno.class,
            /* 22 */ LockPolicy.class,
            /* 23 */ Request.Create.class,
            /* 24 */ Request.Lookup.class,
            /* 25 */ Request.Unlink.class,
            /* 26 */ Request.ListFiles.class,
            /* 27 */ Request.Write.class,
            /* 28 */ Request.Read.class,
            /* 29 */ Request.Fsync.class,
            /* 30 */ Request.Fallocate.class,
            /* 31 */ Request.PunchHole.class,
            /* 32 */ Request.ZeroRange.class,
            /* 33 */ Request.Truncate.class,
            /* 34 */ Request.Stat.class,
            /* 35 */ Request.Fiemap.class,
            /* 36 */ Request.Chmod.class,
            /* 37 */ Request.GetStats.class,
            /* 38 */ Reply.Error.class,
            /* 39 */ Reply.Done.class,
            /* 40 */ Reply.InodeInfo.class,
            /* 41 */ Reply.FileList.class,
            /* 42 */ Reply.DirEntry.class,
            /* 43 */ Reply.Written.class,
            /* 44 */ Reply.Data.class,
            /* 45 */ Reply.FileStat.class,
            /* 46 */ Reply.Layout.class,
            /* 47 */ Reply.FiemapReply.class,
            /* 48 */ Reply.FiemapExtent.class,
            /* 49 */ Reply.Stats.class,
            /* 50 */ List.of().getClass(),
            /* 51 */ List.of(1).getClass(),
            /* 52 */ List.of(1, 2, 3).getClass(),
            /* 53 */ ArrayList.class,
            /* 54 */ Collections.unmodifiableSortedMap(new TreeMap<>()).getClass(),
            /* 55 */ TreeMap.class,
            /* 56 */ FileId.class,
            /* 57 */ Request.Explain.class,
            /* 58 */ Reply.Explanation.class,
            /* 59 */ Reply.ExtentAnswer.class,
            /* 60 */ Request.Members.class,
            /* 61 */ Reply.Members.class,
            /* 62 */ Reply.Member.class);
    private static final int FIRST_ID = 20;
    /**
     * Deepest object nesting accepted. The deepest message is a reply record holding a list of
     * records holding a string: four levels.
     */
    static final int MAX_DEPTH = 8;
    /** What a list on the wire may hold: the entries of FileList, FiemapReply, Explanation and Members. */
    private static final Set<Class<?>> LIST_ELEMENTS = Set.of(Reply.DirEntry.class, Reply.FiemapExtent.class, Reply.ExtentAnswer.class,
            Reply.Member.class);

    /** The largest array {@link #encodeFrameReusing} keeps for a thread's next frame. */
    static final int REUSED_BYTES = (1 << 20) + Wire.HEADER_BYTES;
    private static final ThreadLocal<byte[]> SCRATCH = new ThreadLocal<>();

    private final int maxPayload;
    private final Pool<Kryo> kryos = new Pool<>(true, false, 64) {
        @Override
        protected Kryo create() {
            return newKryo();
        }
    };

    public KryoCodec(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    public KryoCodec() {
        this(Wire.DEFAULT_MAX_PAYLOAD);
    }

    public int maxPayload() {
        return maxPayload;
    }

    /**
     * A whole frame (header and body) for one message.
     *
     * @throws IllegalArgumentException when the body would exceed the maximum payload
     */
    public byte[] encodeFrame(long requestId, Object message) {
        Kryo kryo = kryos.obtain();
        try {
            Output out = encode(kryo, new Output(initialBytes(kryo, message), Wire.HEADER_BYTES + maxPayload), requestId, message);
            // a message carrying data filled an array of its exact size: that is the frame, not a copy of it
            return out.position() == out.getBuffer().length ? out.getBuffer() : out.toBytes();
        } finally {
            kryos.free(kryo);
        }
    }

    /**
     * A whole frame for one message, in an array the calling thread reuses for its next frame: the
     * frame is {@code length} bytes from the start of {@code bytes}, and is valid until this thread
     * encodes again. For a writer that sends the frame before it encodes the next (the client), so
     * a stream of writes allocates nothing per frame: a fresh array per 8 KiB frame was, with the
     * page faults of the heap it churned, a quarter of the client's CPU per write.
     */
    public record Reused(byte[] bytes, int length) {
    }

    /**
     * {@link #encodeFrame}, into this thread's reused array (grown as needed; an array above
     * {@link #REUSED_BYTES} is used once and not kept).
     *
     * @throws IllegalArgumentException when the body would exceed the maximum payload
     */
    public Reused encodeFrameReusing(long requestId, Object message) {
        Kryo kryo = kryos.obtain();
        try {
            byte[] scratch = SCRATCH.get();
            int need = initialBytes(kryo, message);
            if (scratch == null || scratch.length < need || scratch.length > Wire.HEADER_BYTES + maxPayload) {
                scratch = new byte[need];
            }
            Output out = encode(kryo, new Output(scratch, Wire.HEADER_BYTES + maxPayload), requestId, message);
            if (out.getBuffer().length <= REUSED_BYTES) {
                SCRATCH.set(out.getBuffer());
            }
            return new Reused(out.getBuffer(), out.position());
        } finally {
            kryos.free(kryo);
        }
    }

    /** Writes the header and body of {@code message} into {@code out}, which holds the frame from 0 to its position. */
    private Output encode(Kryo kryo, Output out, long requestId, Object message) {
        try {
            out.setPosition(Wire.HEADER_BYTES);
            kryo.writeClassAndObject(out, message);
            ByteBuffer.wrap(out.getBuffer()).putInt(out.position() - Wire.LENGTH_BYTES).putLong(requestId);
            return out;
        } catch (KryoException e) {
            throw new IllegalArgumentException("message does not fit a frame of " + maxPayload + " bytes: " + e.getMessage(), e);
        }
    }

    /**
     * The whole frame of a message that carries data (a write, a read's reply), to the byte, so
     * its payload is copied once, into the frame, instead of through every doubling from a small
     * buffer and then into an array of the frame's size; 256 bytes to grow from for any other.
     */
    private int initialBytes(Kryo kryo, Object message) {
        int body = DataPathSerializers.bodyBytes(message);
        if (body < 0) {
            return 256;
        }
        int classId = Output.varIntLength(kryo.getRegistration(message.getClass()).getId() + 2, true);
        return (int) Math.min(Wire.HEADER_BYTES + (long) maxPayload, Wire.HEADER_BYTES + classId + (long) body);
    }

    /** Decodes a frame body (the bytes after the request id). */
    public Object decodeBody(byte[] buf, int offset, int length) throws MalformedFrameException {
        return decode(buf, offset, length, Object.class);
    }

    /**
     * Decodes a frame body that must hold a request: a body of any other registered class is
     * refused from its class id, before the rest of it is read.
     */
    public Request decodeRequest(byte[] buf, int offset, int length) throws MalformedFrameException {
        return (Request) decode(buf, offset, length, Request.class);
    }

    /**
     * Decodes a request from a body that stays where it is, from the buffer's position to its
     * limit (the node's read, uncopied); the buffer's own position is not moved.
     */
    public Request decodeRequest(ByteBuffer body) throws MalformedFrameException {
        ByteBuffer view = body.duplicate();
        return (Request) decode(new BoundedByteBufferInput(view), view.limit(), Request.class);
    }

    private Object decode(byte[] buf, int offset, int length, Class<?> expected) throws MalformedFrameException {
        return decode(new BoundedInput(buf, offset, length), offset + length, expected);
    }

    /** Decodes one message from {@code in}, which must end exactly at {@code end}. */
    private Object decode(Input input, int end, Class<?> expected) throws MalformedFrameException {
        Kryo kryo = kryos.obtain();
        try (Input in = input) {
            Registration registration = kryo.readClass(in);
            if (registration == null) {
                throw new MalformedFrameException("empty message");
            }
            if (!expected.isAssignableFrom(registration.getType())) {
                throw new MalformedFrameException("not a request: " + registration.getType().getSimpleName());
            }
            Object message = kryo.readObject(in, registration.getType());
            if (in.position() != end) {
                throw new MalformedFrameException((end - in.position()) + " trailing bytes after the message");
            }
            return message;
        } catch (RuntimeException e) {
            // Kryo, the records' constructors and the JDK's collections report bad input in many exception types
            throw new MalformedFrameException("undecodable frame body: " + firstLine(e), e);
        } finally {
            kryos.free(kryo);
        }
    }

    /** Kryo appends a "Serialization trace" of internal class names after the first line. */
    private static String firstLine(RuntimeException e) {
        String m = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static Kryo newKryo() {
        Kryo kryo = new Kryo(new RegisteredOnlyClassResolver(), null);
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        kryo.setMaxDepth(MAX_DEPTH);
        int id = FIRST_ID;
        for (Class<?> type : REGISTRATIONS) {
            Serializer<?> custom = serializerFor(type);
            kryo.register(type, custom != null ? custom : kryo.getDefaultSerializer(type), id++);
        }
        return kryo;
    }

    private static Serializer<?> serializerFor(Class<?> type) {
        if (type == Errno.class) {
            return new ErrnoSerializer();
        }
        if (type == LockPolicy.class) {
            return new LockPolicySerializer();
        }
        if (List.class.isAssignableFrom(type)) {
            return new ListSerializer();
        }
        if (Map.class.isAssignableFrom(type)) {
            return new SortedStringLongMapSerializer();
        }
        return DataPathSerializers.of(type);
    }

    /** Errno travels as its numeric code, so constants can be added in any order. */
    private static final class ErrnoSerializer extends Serializer<Errno> {
        @Override
        public void write(Kryo kryo, Output output, Errno errno) {
            output.writeVarInt(errno.code(), true);
        }

        @Override
        public Errno read(Kryo kryo, Input input, Class<? extends Errno> type) {
            return Errno.fromCode(input.readVarInt(true));
        }
    }

    /**
     * A lock policy in Kryo's enum format (0 for null, else ordinal + 1), whose refusal of an
     * unknown value names a lock policy, not the enum's class.
     */
    private static final class LockPolicySerializer extends Serializer<LockPolicy> {
        private static final LockPolicy[] POLICIES = LockPolicy.values();

        LockPolicySerializer() {
            setAcceptsNull(true);
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output output, LockPolicy policy) {
            output.writeVarInt(policy == null ? 0 : policy.ordinal() + 1, true);
        }

        @Override
        public LockPolicy read(Kryo kryo, Input input, Class<? extends LockPolicy> type) {
            int code = input.readVarInt(true);
            if (code == 0) {
                return null;
            }
            if (code < 0 || code > POLICIES.length) {
                throw new KryoException("unknown lock policy code " + code + " (the node knows 1 to " + POLICIES.length + ")");
            }
            return POLICIES[code - 1];
        }
    }

    /**
     * Any list, read back as an immutable list of directory entries, extents or members (the only lists
     * messages carry); the declared size is bounded by the bytes left, and the list grows only with
     * the elements actually read.
     */
    private static final class ListSerializer extends Serializer<List<?>> {
        @Override
        public void write(Kryo kryo, Output output, List<?> list) {
            output.writeVarInt(list.size(), true);
            for (Object element : list) {
                kryo.writeClassAndObject(output, element);
            }
        }

        @Override
        public List<?> read(Kryo kryo, Input input, Class<? extends List<?>> type) {
            int size = input.readVarInt(true);
            if (size < 0 || size > input.limit() - input.position()) {
                throw new KryoException("a list of " + Integer.toUnsignedString(size) + " elements does not fit the "
                        + (input.limit() - input.position()) + " bytes left in the frame");
            }
            List<Object> list = new ArrayList<>(Math.min(size, 64));
            for (int i = 0; i < size; i++) {
                Registration element = kryo.readClass(input);
                if (element == null || !LIST_ELEMENTS.contains(element.getType())) {
                    throw new KryoException("a list may hold only directory entries, extents and members, not "
                            + (element == null ? "null" : element.getType().getSimpleName()));
                }
                list.add(kryo.readObject(input, element.getType()));
            }
            return List.copyOf(list);
        }
    }

    /** The counters map of {@link Reply.Stats}. */
    private static final class SortedStringLongMapSerializer extends Serializer<Map<String, Long>> {
        @Override
        public void write(Kryo kryo, Output output, Map<String, Long> map) {
            output.writeVarInt(map.size(), true);
            for (Map.Entry<String, Long> e : map.entrySet()) {
                output.writeString(e.getKey());
                output.writeVarLong(e.getValue(), false);
            }
        }

        @Override
        public Map<String, Long> read(Kryo kryo, Input input, Class<? extends Map<String, Long>> type) {
            int size = input.readVarInt(true);
            // each entry takes at least two bytes: a key and a value
            if (size < 0 || size > (input.limit() - input.position()) / 2) {
                throw new KryoException("a map of " + Integer.toUnsignedString(size) + " entries does not fit the "
                        + (input.limit() - input.position()) + " bytes left in the frame");
            }
            TreeMap<String, Long> map = new TreeMap<>();
            for (int i = 0; i < size; i++) {
                map.put(input.readString(), input.readVarLong(false));
            }
            return Collections.unmodifiableSortedMap(map);
        }
    }
}
