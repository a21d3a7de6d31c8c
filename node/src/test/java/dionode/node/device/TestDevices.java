package dionode.node.device;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Test helpers: device files under the build directory (not /tmp, which may be tmpfs). */
final class TestDevices {
    static final NativeIO JNA = new JnaNativeIO();

    private TestDevices() {
    }

    /** {@code <module>/target/test-devices}: on the host disk, where O_DIRECT is real. */
    static Path root() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("target").resolve("test-devices");
    }

    /** An empty directory for one test, emptied first if a previous run left it behind. */
    static Path freshDir(String name) throws IOException {
        Path dir = root().resolve(name);
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
        Files.createDirectories(dir);
        return dir;
    }

    /** A fresh fully written device file of {@code size} bytes. */
    static Path newDeviceFile(String name, long size) throws IOException {
        Path file = freshDir(name).resolve("device");
        DeviceFiles.createFullyWritten(file, size, JNA);
        return file;
    }

    /** Fills {@code buf} from position to limit with a pattern that depends on {@code seed} and the index. */
    static void fill(ByteBuffer buf, int seed) {
        for (int i = buf.position(); i < buf.limit(); i++) {
            buf.put(i, pattern(seed, i - buf.position()));
        }
    }

    static byte pattern(int seed, int i) {
        return (byte) (seed * 31 + i * 7 + (i >>> 9));
    }

    /** Index of the first byte of {@code buf} (position..limit) not matching the pattern, or -1. */
    static int firstMismatch(ByteBuffer buf, int seed) {
        for (int i = buf.position(); i < buf.limit(); i++) {
            if (buf.get(i) != pattern(seed, i - buf.position())) {
                return i - buf.position();
            }
        }
        return -1;
    }

    /** Index of the first non-zero byte of {@code buf} (position..limit), or -1. */
    static int firstNonZero(ByteBuffer buf) {
        for (int i = buf.position(); i < buf.limit(); i++) {
            if (buf.get(i) != 0) {
                return i - buf.position();
            }
        }
        return -1;
    }
}
