package dionode.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameReaderTest {
    private final KryoCodec codec = new KryoCodec();

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Hands out at most {@code chunk} bytes per read, as a slow socket would. */
    private static InputStream trickle(byte[] bytes, int chunk) {
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, chunk));
            }
        };
    }

    private Object decode(FrameReader frames) throws MalformedFrameException {
        return codec.decodeBody(frames.body(), frames.bodyOffset(), frames.bodyLength());
    }

    @Test
    void readsFramesWhetherTheyArriveTogetherOrByteByByte() throws Exception {
        byte[] data = new byte[300];
        Arrays.fill(data, (byte) 7);
        List<Object> messages = List.of(new Request.Lookup("a"), new Request.Write(new FileId(3, 1), 512, data, 0), new Reply.Done());
        byte[] stream = concat(codec.encodeFrame(1, messages.get(0)), codec.encodeFrame(2, messages.get(1)),
                codec.encodeFrame(3, messages.get(2)));
        for (int chunk : new int[] {1, 5, 13, 64 << 10}) {
            // a buffer just big enough for the largest frame forces compaction between frames
            FrameReader frames = new FrameReader(trickle(stream, chunk), Wire.DEFAULT_MAX_PAYLOAD, 340);
            for (int i = 0; i < messages.size(); i++) {
                assertTrue(frames.next(), "frame " + i + " with chunks of " + chunk);
                assertEquals(i + 1, frames.requestId());
                Object m = decode(frames);
                if (m instanceof Request.Write w) {
                    assertArrayEquals(data, w.data());
                } else {
                    assertEquals(messages.get(i), m);
                }
            }
            assertFalse(frames.next(), "clean end of stream");
        }
    }

    @Test
    void framesBiggerThanTheBufferGetTheirOwnArray() throws Exception {
        byte[] data = new byte[100_000];
        new java.util.Random(1).nextBytes(data);
        byte[] stream = concat(codec.encodeFrame(9, new Reply.Data(data)), codec.encodeFrame(10, new Reply.Done()));
        FrameReader frames = new FrameReader(trickle(stream, 4000), Wire.DEFAULT_MAX_PAYLOAD, 1024);
        assertTrue(frames.next());
        assertEquals(9, frames.requestId());
        assertEquals(0, frames.bodyOffset());
        assertArrayEquals(data, ((Reply.Data) decode(frames)).data());
        assertTrue(frames.next());
        assertEquals(10, frames.requestId());
        assertEquals(new Reply.Done(), decode(frames));
        assertFalse(frames.next());
    }

    @Test
    void smallFramesAreViewsIntoTheReadBuffer() throws Exception {
        byte[] stream = concat(codec.encodeFrame(1, new Reply.Done()), codec.encodeFrame(2, new Reply.Done()));
        FrameReader frames = new FrameReader(new ByteArrayInputStream(stream), 1024);
        assertTrue(frames.next());
        byte[] first = frames.body();
        assertTrue(frames.next());
        assertSame(first, frames.body());
    }

    @Test
    void badLengthsAreRefusedBeforeReadingTheBody() throws Exception {
        for (int declared : new int[] {Integer.MAX_VALUE, -1, 0, 7, 8 + 1025}) {
            // only the header is there: a reader that tried to buffer the body would hit EOF instead
            byte[] header = ByteBuffer.allocate(Wire.HEADER_BYTES).putInt(declared).putLong(1).array();
            FrameReader frames = new FrameReader(new ByteArrayInputStream(header), 1024);
            MalformedFrameException e = assertThrows(MalformedFrameException.class, frames::next, "length " + declared);
            assertTrue(e.getMessage().contains("exceeds") || e.getMessage().contains("shorter"), e.getMessage());
        }
    }

    @Test
    void endOfStreamInsideAFrameIsAnEofException() throws Exception {
        byte[] frame = codec.encodeFrame(1, new Request.Lookup("name"));
        for (int cut : new int[] {1, 3, 4, 11, frame.length - 1}) {
            FrameReader frames = new FrameReader(new ByteArrayInputStream(Arrays.copyOf(frame, cut)), 1024);
            assertThrows(EOFException.class, frames::next, "cut at " + cut);
        }
        byte[] big = codec.encodeFrame(1, new Reply.Data(new byte[5000]));
        FrameReader frames = new FrameReader(new ByteArrayInputStream(Arrays.copyOf(big, 3000)), 1 << 20, 1024);
        assertThrows(EOFException.class, frames::next, "cut inside a frame bigger than the buffer");
    }
}
