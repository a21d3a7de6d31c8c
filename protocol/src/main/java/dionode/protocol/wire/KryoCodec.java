package dionode.protocol.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
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
import java.util.TreeMap;

/**
 * Kryo encoding of requests and replies with fixed registration ids and
 * {@code registrationRequired=true}: no class name ever crosses the wire, and a body naming an id
 * that is not in {@link #REGISTRATIONS} is refused, never instantiated. Thread-safe (Kryo instances
 * come from a pool).
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
            /* 56 */ FileId.class);
    private static final int FIRST_ID = 20;

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
        try (Output out = new Output(256, Wire.HEADER_BYTES + maxPayload)) {
            out.setPosition(Wire.HEADER_BYTES);
            kryo.writeClassAndObject(out, message);
            int frameLength = out.position() - Wire.LENGTH_BYTES;
            byte[] frame = out.toBytes();
            ByteBuffer.wrap(frame).putInt(frameLength).putLong(requestId);
            return frame;
        } catch (KryoException e) {
            throw new IllegalArgumentException("message does not fit a frame of " + maxPayload + " bytes: " + e.getMessage(), e);
        } finally {
            kryos.free(kryo);
        }
    }

    /** Decodes a frame body (the bytes after the request id). */
    public Object decodeBody(byte[] buf, int offset, int length) throws MalformedFrameException {
        Kryo kryo = kryos.obtain();
        try (Input in = new Input(buf, offset, length)) {
            Object message = kryo.readClassAndObject(in);
            if (in.position() != offset + length) {
                throw new MalformedFrameException((offset + length - in.position()) + " trailing bytes after the message");
            }
            if (message == null) {
                throw new MalformedFrameException("empty message");
            }
            return message;
        } catch (KryoException | IllegalArgumentException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new MalformedFrameException("undecodable frame body: " + e.getMessage(), e);
        } finally {
            kryos.free(kryo);
        }
    }

    private static Kryo newKryo() {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
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
        if (List.class.isAssignableFrom(type)) {
            return new ListSerializer();
        }
        if (Map.class.isAssignableFrom(type)) {
            return new SortedStringLongMapSerializer();
        }
        return null;
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

    /** Any list, read back as an immutable list; the declared size is bounded by the bytes left. */
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
                throw new KryoException("list of " + size + " elements in a body of " + input.limit() + " bytes");
            }
            List<Object> list = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                list.add(kryo.readClassAndObject(input));
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
            if (size < 0 || size > input.limit() - input.position()) {
                throw new KryoException("map of " + size + " entries in a body of " + input.limit() + " bytes");
            }
            TreeMap<String, Long> map = new TreeMap<>();
            for (int i = 0; i < size; i++) {
                map.put(input.readString(), input.readVarLong(false));
            }
            return Collections.unmodifiableSortedMap(map);
        }
    }
}
