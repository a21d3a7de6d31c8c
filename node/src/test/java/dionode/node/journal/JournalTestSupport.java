package dionode.node.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.device.DeviceFiles;
import dionode.node.device.JnaNativeIO;
import dionode.node.device.NativeIO;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;

/**
 * Shared fixtures: real O_DIRECT device files under {@code target/test-devices/}, a manual
 * clock, a tiny metadata cache of live images, and raw block access.
 */
abstract class JournalTestSupport {

    static final int BS = JournalFormat.BLOCK_SIZE;
    /** Default test device: 2 MiB = 512 blocks; journal at blocks [8, 72). */
    static final long DEV_BYTES = 2L << 20;
    static final long J_START = 8;
    static final long J_BLOCKS = 64;

    static final NativeIO JNA = new JnaNativeIO();

    private final List<Path> files = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Map<Path, BlockDevice> open = new HashMap<>();
    final ManualClock clock = new ManualClock(1_700_000_000_000L);
    /** Live images: the "metadata cache"; concurrent, as handles of several threads run at once. */
    final Map<Long, byte[]> live = new ConcurrentHashMap<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        for (Path p : files) {
            Files.deleteIfExists(p);
        }
    }

    Path newDeviceFile(long bytes) throws IOException {
        Path dir = Paths.get("target", "test-devices");
        Files.createDirectories(dir);
        Path p = dir.resolve(getClass().getSimpleName() + "-" + System.nanoTime() + ".img");
        DeviceFiles.createFullyWritten(p, bytes, JNA);
        files.add(p);
        return p;
    }

    /**
     * Opens {@code p}, closing this test's earlier open of it first: the device is opened
     * exclusively, and a test that reopens it is done with the earlier open (a user that stopped
     * or crashed, whose process would have let go of the device).
     */
    BlockDevice openDevice(Path p, NativeIO io) throws IOException {
        BlockDevice earlier = open.remove(p);
        if (earlier != null) {
            earlier.close();
        }
        BlockDevice d = BlockDevice.open(p, io, 0);
        closeables.add(d);
        open.put(p, d);
        return d;
    }

    <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    /** Formats, recovers and opens a journal on the default layout. */
    Journal start(BlockDevice dev, JournalOptions options) throws IOException {
        Journal.format(dev, J_START, J_BLOCKS);
        Journal.recover(dev, J_START, J_BLOCKS);
        return track(Journal.open(dev, J_START, J_BLOCKS, options, clock));
    }

    static JournalOptions quiet() {
        // No commit by interval unless a test advances the manual clock.
        return JournalOptions.defaults().withIdlePoll(Duration.ofMillis(20));
    }

    /** The live image of {@code home} (all zeros at first). */
    byte[] image(long home) {
        return live.computeIfAbsent(home, h -> new byte[BS]);
    }

    /** Fills an image with a pattern of (home, version) so every block and version differs. */
    static void fill(byte[] img, long home, int version) {
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 8 <= BS - 4; i += 8) {
            b.putLong(i, home * 1_000_003L + version * 7919L + i);
        }
    }

    static byte[] expected(long home, int version) {
        byte[] img = new byte[BS];
        fill(img, home, version);
        SEALER.seal(home, img);
        return img;
    }

    /** Test sealer: CRC32C of bytes 0..4091 into the last 4 bytes. */
    static final Sealer SEALER = (home, img) -> {
        CRC32C c = new CRC32C();
        c.update(img, 0, BS - 4);
        ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN).putInt(BS - 4, (int) c.getValue());
    };

    /** One handle that sets each block to {@code version}. Returns the handle's tid. */
    long change(Journal j, int version, long... homes) {
        Handle h = j.tryStart(homes.length);
        if (h == null) {
            throw new IllegalStateException("no room");
        }
        try {
            for (long home : homes) {
                fill(h.getWriteAccess(home, image(home), SEALER), home, version);
            }
            return h.tid();
        } finally {
            h.close();
        }
    }

    static byte[] readBlock(BlockDevice dev, long block) throws IOException {
        ByteBuffer b = AlignedBuffers.allocateAligned(BS);
        dev.read(block * BS, b);
        byte[] out = new byte[BS];
        b.get(0, out);
        return out;
    }

    static void writeBlock(BlockDevice dev, long block, byte[] data) throws IOException {
        ByteBuffer b = AlignedBuffers.allocateAligned(BS);
        b.put(0, data);
        dev.write(block * BS, b);
        dev.flush();
    }

    static void assertHome(BlockDevice dev, long home, int version) throws IOException {
        assertArrayEquals(expected(home, version), readBlock(dev, home), "home block " + home + " version " + version);
    }

    static void assertZero(BlockDevice dev, long home) throws IOException {
        assertArrayEquals(new byte[BS], readBlock(dev, home), "home block " + home + " should be untouched");
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(1);
        }
    }

    /** A clock that moves only when told. Thread-safe. */
    static final class ManualClock extends Clock {
        private final AtomicLong millis;

        ManualClock(long start) {
            millis = new AtomicLong(start);
        }

        void advance(Duration d) {
            millis.addAndGet(d.toMillis());
        }

        @Override
        public long millis() {
            return millis.get();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
