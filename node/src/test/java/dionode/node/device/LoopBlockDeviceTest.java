package dionode.node.device;

import static dionode.node.device.TestDevices.JNA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The block-device path (BLKSSZGET, BLKGETSIZE64) on a real block device: a loop
 * device with 4096-byte sectors over a device file. Skipped unless root with losetup.
 */
class LoopBlockDeviceTest {
    private static final int SIZE = 4 << 20;

    @Test
    void sectorSizeAndSizeComeFromTheKernel() throws Exception {
        Path losetup = Path.of("/usr/sbin/losetup");
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(losetup), "needs root and losetup");
        Path backing = TestDevices.newDeviceFile("loop", SIZE);
        String loop = run(losetup.toString(), "--find", "--show", "--sector-size", "4096", backing.toString());
        assumeTrue(loop != null && loop.startsWith("/dev/loop"), "could not attach a loop device: " + loop);
        try {
            try (BlockDevice dev = BlockDevice.open(Path.of(loop), JNA, 0)) {
                assertTrue(dev.isBlockDevice());
                assertEquals(4096, dev.sectorSize());
                // O_EXCL claims the block device: a second open, even in this process, is refused
                DeviceInUseException inUse = assertThrows(DeviceInUseException.class,
                        () -> BlockDevice.open(Path.of(loop), JNA, 0));
                assertEquals("device " + loop + " is in use by another process", inUse.getMessage());
                assertEquals(NativeIOException.EBUSY, inUse.errno());
                assertEquals(SIZE, dev.size());

                ByteBuffer out = AlignedBuffers.allocateAligned(8192);
                TestDevices.fill(out, 9);
                assertThrows(IllegalArgumentException.class, () -> dev.write(512, out.duplicate().limit(512)));
                dev.write(4096, out);
                dev.flush();
                ByteBuffer in = AlignedBuffers.allocateAligned(8192);
                dev.read(4096, in);
                assertEquals(-1, TestDevices.firstMismatch(in, 9));

                NativeIOException e = assertThrows(NativeIOException.class, () -> dev.write(SIZE, out));
                assertEquals(NativeIOException.ENOSPC, e.errno());
            }
            assertThrows(IllegalArgumentException.class, () -> BlockDevice.open(Path.of(loop), JNA, 512),
                    "an override below the logical sector size cannot work");
            try (BlockDevice dev = BlockDevice.open(Path.of(loop), JNA, 8192)) {
                assertEquals(8192, dev.sectorSize());
            }
        } finally {
            run(losetup.toString(), "-d", loop);
        }
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            return null;
        }
        return out;
    }
}
