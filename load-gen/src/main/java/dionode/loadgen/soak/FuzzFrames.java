package dionode.loadgen.soak;

import dionode.protocol.FileId;
import dionode.protocol.message.Request;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.Wire;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.SplittableRandom;

/**
 * The bytes of fuzzed connections, as issue 10 listed the ways in: random bytes, random frame
 * bodies, bad declared lengths, real requests with bits flipped, a string or byte array declaring
 * a huge length, lists nested thousands deep, a class named on the wire, half frames. Class ids
 * are taken from real encodings ({@link KryoCodec}), never written down here. Thread-safe
 * (stateless apart from the codec, which is).
 */
final class FuzzFrames {
    private final KryoCodec codec;

    FuzzFrames(KryoCodec codec) {
        this.codec = codec;
    }

    static byte[] frame(long id, byte[] body) {
        return ByteBuffer.allocate(Wire.HEADER_BYTES + body.length).putInt(Wire.ID_BYTES + body.length).putLong(id).put(body).array();
    }

    /** Any bytes at all. */
    static byte[] garbage(SplittableRandom rnd) {
        byte[] b = new byte[1 + rnd.nextInt(4096)];
        rnd.nextBytes(b);
        return b;
    }

    /** A frame of honest length whose body is random. */
    static byte[] randomBody(SplittableRandom rnd) {
        byte[] body = new byte[1 + rnd.nextInt(256)];
        rnd.nextBytes(body);
        return frame(rnd.nextLong(), body);
    }

    /** A length shorter than the request id, or longer than any frame may be, then a few bytes. */
    static byte[] badLength(SplittableRandom rnd) {
        long declared = switch (rnd.nextInt(3)) {
            case 0 -> rnd.nextInt(Wire.ID_BYTES);
            case 1 -> Wire.ID_BYTES + Wire.DEFAULT_MAX_PAYLOAD + 1L + rnd.nextInt(1 << 20);
            default -> 0xFFFF_FFFFL - rnd.nextInt(1 << 16);
        };
        byte[] rest = new byte[Wire.ID_BYTES + rnd.nextInt(64)];
        rnd.nextBytes(rest);
        return ByteBuffer.allocate(Wire.LENGTH_BYTES + rest.length).putInt((int) declared).put(rest).array();
    }

    /** A real request's frame with 1 to 4 bits flipped anywhere, header included. */
    static byte[] flipped(byte[] frame, SplittableRandom rnd) {
        byte[] f = frame.clone();
        for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
            f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
        return f;
    }

    /** A Lookup whose name declares {@code chars} characters (Kryo's UTF-8 string form) and holds three. */
    byte[] lookupDeclaring(long chars) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(classId(new Request.Lookup("x")));
        long v = chars + 1;
        body.write((int) (0x80 | (v >= 0x40 ? 0x40 : 0) | v & 0x3f)); // UTF-8 flag, more-bytes flag, 6 bits
        for (v >>>= 6; v != 0; v >>>= 7) {
            body.write((int) (v & 0x7f | (v >= 0x80 ? 0x80 : 0)));
        }
        body.writeBytes("abc".getBytes(StandardCharsets.US_ASCII));
        return frame(7, body.toByteArray());
    }

    /** A Write whose data declares almost 2 GiB and holds three bytes. */
    byte[] writeDeclaringHugeData(FileId file) {
        byte[] f = codec.encodeFrame(8, new Request.Write(file, 0, new byte[] {0x5A, 0x5B, 0x5C}, 0));
        int at = indexOf(f, new byte[] {4, 0x5A, 0x5B, 0x5C}); // Kryo's byte[]: varint length + 1, the bytes
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(f, 0, at);
        for (long v = Integer.MAX_VALUE; v != 0; v >>>= 7) {
            out.write((int) (v & 0x7f | (v >= 0x80 ? 0x80 : 0)));
        }
        out.write(f, at + 1, f.length - at - 1);
        byte[] r = out.toByteArray();
        ByteBuffer.wrap(r).putInt(r.length - Wire.LENGTH_BYTES);
        return r;
    }

    /** {@code depth} lists, each holding the next: the body that overflowed the decoder's stack. */
    byte[] nestedLists(int depth) {
        int list = classId(new ArrayList<>());
        byte[] body = new byte[2 * depth];
        for (int i = 0; i < depth; i++) {
            body[2 * i] = (byte) list;
            body[2 * i + 1] = (byte) (i == depth - 1 ? 0 : 1);
        }
        return frame(9, body);
    }

    /** A body naming a class (Kryo's NAME id, name id 0, the ASCII name with its last byte's high bit set). */
    static byte[] classNamed(String className) {
        byte[] name = className.getBytes(StandardCharsets.US_ASCII);
        name[name.length - 1] |= (byte) 0x80;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(1);
        body.write(0);
        body.writeBytes(name);
        body.writeBytes(new byte[] {0, 0, 0});
        return frame(10, body.toByteArray());
    }

    /** A header declaring {@code bodyBytes} and only {@code sent} of them. */
    static byte[] halfFrame(long id, int bodyBytes, int sent, SplittableRandom rnd) {
        byte[] body = new byte[sent];
        rnd.nextBytes(body);
        return ByteBuffer.allocate(Wire.HEADER_BYTES + sent).putInt(Wire.ID_BYTES + bodyBytes).putLong(id).put(body).array();
    }

    /** The first body byte of a message's encoding: its class id on the wire. */
    private int classId(Object message) {
        return codec.encodeFrame(0, message)[Wire.HEADER_BYTES] & 0xff;
    }

    private static int indexOf(byte[] in, byte[] what) {
        for (int i = Wire.HEADER_BYTES; i <= in.length - what.length; i++) {
            if (java.util.Arrays.equals(in, i, i + what.length, what, 0, what.length)) {
                return i;
            }
        }
        throw new IllegalStateException("the encoding of a Write no longer holds its data as Kryo's byte[]");
    }
}
