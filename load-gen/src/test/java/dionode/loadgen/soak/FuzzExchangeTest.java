package dionode.loadgen.soak;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.FileId;
import dionode.protocol.message.Request;
import dionode.protocol.wire.KryoCodec;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The fuzzer must never send what would change a modelled file, or the read-back would blame the node. */
class FuzzExchangeTest {
    private final KryoCodec codec = new KryoCodec();
    private final FileId target = new FileId(6, 1);
    private final FuzzExchange x = new FuzzExchange(new SoakContext("127.0.0.1", 1, 1, 1 << 20, Duration.ofSeconds(1),
            Duration.ofSeconds(1), Duration.ofSeconds(1)), codec, target, "soak-fuzz");

    @Test
    void requestsChangingAnotherFileAreNotSent() {
        assertFalse(x.harmless(codec.encodeFrame(1, new Request.Write(new FileId(22, 1), 0, new byte[512], 0))));
        assertFalse(x.harmless(codec.encodeFrame(1, new Request.Truncate(new FileId(7, 1), 0))));
        assertFalse(x.harmless(codec.encodeFrame(1, new Request.Unlink("soak-fuzz"))));
        assertFalse(x.harmless(codec.encodeFrame(1, new Request.Create("soak-fuzy", null, 0644, true))));
        assertFalse(x.harmless(codec.encodeFrame(1, new Request.Fallocate(target, 0, 1L << 30, false))), "space of the whole device");
    }

    @Test
    void readsAndChangesOfTheFuzzFileAreSent() {
        assertTrue(x.harmless(codec.encodeFrame(1, new Request.Write(target, 0, new byte[512], 0))));
        assertTrue(x.harmless(codec.encodeFrame(1, new Request.Stat(new FileId(22, 1)))));
        assertTrue(x.harmless(codec.encodeFrame(1, new Request.Write(null, 0, new byte[512], 0))), "refused: EINVAL");
        assertTrue(x.harmless(new byte[] {0, 0, 0, 3, 1, 2, 3}), "a bad length: nothing after it is read");
    }

    @Test
    void everyCompleteFrameIsJudgedUntilOneDoesNotDecode() {
        byte[] ok = codec.encodeFrame(1, new Request.Stat(target));
        byte[] bad = codec.encodeFrame(2, new Request.Write(new FileId(22, 1), 0, new byte[512], 0));
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        two.writeBytes(ok);
        two.writeBytes(bad);
        assertFalse(x.harmless(two.toByteArray()), "the second frame of the stream");
        byte[] garbled = ok.clone();
        garbled[12] = (byte) 0xff; // no such class: EBADMSG closes the connection before the next frame
        ByteArrayOutputStream after = new ByteArrayOutputStream();
        after.writeBytes(garbled);
        after.writeBytes(bad);
        assertTrue(x.harmless(after.toByteArray()));
        assertTrue(x.harmless(Arrays.copyOf(bad, bad.length - 1)), "a half frame is never run");
    }
}
