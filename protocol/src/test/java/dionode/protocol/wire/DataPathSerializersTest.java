package dionode.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The hand-written serializers write exactly the bytes Kryo's record serializer writes, for
 * extreme and random values and nulls, and read them back equal; the codec uses them.
 */
class DataPathSerializersTest {
    private static final long[] LONGS = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 4096, -4096};
    private static final int[] INTS = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 8192};

    private static Kryo kryo(boolean handWritten) {
        Kryo k = new Kryo();
        k.setRegistrationRequired(false);
        k.setReferences(false);
        if (handWritten) {
            for (Class<?> type : List.of(Request.Write.class, Request.Read.class, Reply.Written.class, Reply.Data.class, FileId.class)) {
                Serializer<?> s = DataPathSerializers.of(type);
                k.register(type, s);
            }
        }
        return k;
    }

    private static byte[] bytes(Kryo k, Object message) {
        Output out = new Output(64, 1 << 20);
        k.writeObject(out, message);
        return out.toBytes();
    }

    private static List<Object> messages() {
        Random r = new Random(42);
        List<Object> all = new ArrayList<>();
        all.add(new Request.Write(null, 0, null, 0));
        all.add(new Request.Read(null, 0, 0, 0));
        all.add(new Reply.Data(null));
        for (long l : LONGS) {
            for (int i : INTS) {
                FileId f = new FileId(l, i, ~l);
                all.add(f);
                all.add(new Request.Write(f, l, new byte[Math.floorMod(i, 17)], i));
                all.add(new Request.Read(f, l, i, ~i));
                all.add(new Reply.Written(l));
            }
        }
        for (int n = 0; n < 200; n++) {
            byte[] data = new byte[r.nextInt(9000)];
            r.nextBytes(data);
            FileId f = new FileId(r.nextLong(), r.nextInt(), r.nextLong());
            all.add(new Request.Write(f, r.nextLong(), data, r.nextInt()));
            all.add(new Reply.Data(data));
            all.add(new Request.Read(f, r.nextLong(), r.nextInt(), r.nextInt()));
        }
        return all;
    }

    @Test
    void theBytesAreTheRecordSerializersAndReadBackEqual() {
        Kryo records = kryo(false);
        Kryo hand = kryo(true);
        for (Object m : messages()) {
            byte[] expected = bytes(records, m);
            byte[] actual = bytes(hand, m);
            assertArrayEquals(expected, actual, m.getClass().getSimpleName());
            Object back = hand.readObject(new Input(actual), m.getClass());
            if (m instanceof Request.Write w) {
                Request.Write b = (Request.Write) back;
                assertEquals(w.file(), b.file());
                assertEquals(w.offset(), b.offset());
                assertEquals(w.flags(), b.flags());
                assertArrayEquals(w.data(), b.data());
            } else if (m instanceof Reply.Data d) {
                assertArrayEquals(d.data(), ((Reply.Data) back).data());
            } else {
                assertEquals(m, back);
            }
        }
    }

    @Test
    void aByteArrayLongerThanTheFrameIsRefusedBeforeItIsAllocated() {
        Output out = new Output(16);
        out.writeVarInt(Integer.MAX_VALUE, true); // a data length of 2^31 - 2 in a frame of a few bytes
        Input in = new Input(out.toBytes());
        RuntimeException e = assertThrows(RuntimeException.class, () -> kryo(true).readObject(in, Reply.Data.class));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
    }

    @Test
    void theCodecCarriesWritesThroughThem() throws Exception {
        KryoCodec codec = new KryoCodec();
        Request.Write w = new Request.Write(new FileId(3, 4), 8192, new byte[] {1, 2, 3}, 5);
        byte[] frame = codec.encodeFrame(9, w);
        Request.Write back = (Request.Write) codec.decodeRequest(frame, Wire.HEADER_BYTES, frame.length - Wire.HEADER_BYTES);
        assertEquals(w.file(), back.file());
        assertArrayEquals(w.data(), back.data());
    }
}
