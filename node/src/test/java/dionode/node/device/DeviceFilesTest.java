package dionode.node.device;

import static dionode.node.device.TestDevices.JNA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DeviceFilesTest {
    private static final long SIZE = 20L << 20; // 2.5 chunks: exercises the partial last chunk

    @Test
    void createsAFullyWrittenNonSparseFile() throws Exception {
        Path file = TestDevices.freshDir("df-create").resolve("device");
        DeviceFiles.createFullyWritten(file, SIZE, JNA);

        assertEquals(SIZE, Files.size(file));
        long statBlocks = Long.parseLong(run("/usr/bin/stat", "-c", "%b", file.toString()));
        assertTrue(statBlocks * 512 >= SIZE, "stat says " + statBlocks + " blocks: sparse");

        int fd = JNA.open(file.toString(), NativeIO.O_RDONLY | NativeIO.O_CLOEXEC);
        try {
            NativeIO.FileStat st = JNA.fstat(fd);
            assertTrue(st.isRegularFile());
            assertEquals(SIZE, st.size());
            assertEquals(statBlocks, st.blocks(), "our fstat agrees with stat(1)");
            assertTrue(st.allocatedBytes() >= SIZE);
        } finally {
            JNA.close(fd);
        }

        try (BlockDevice dev = BlockDevice.open(file, JNA, 0)) {
            ByteBuffer buf = AlignedBuffers.allocateAligned(1 << 20);
            for (long off : new long[] {0, (8L << 20) - 4096, SIZE - (1 << 20)}) {
                TestDevices.fill(buf, 5);
                dev.read(off, buf);
                assertEquals(-1, TestDevices.firstNonZero(buf), "zeros at " + off);
            }
        }
    }

    @Test
    void refusesToOverwriteAnExistingFile() throws IOException {
        Path file = TestDevices.freshDir("df-exists").resolve("device");
        Files.write(file, "precious".getBytes(StandardCharsets.UTF_8));
        assertThrows(FileAlreadyExistsException.class, () -> DeviceFiles.createFullyWritten(file, 4096, JNA));
        assertEquals("precious", Files.readString(file));
    }

    @Test
    void sizeMustBeAPositiveMultipleOf4096() throws IOException {
        Path file = TestDevices.freshDir("df-size").resolve("device");
        assertThrows(IllegalArgumentException.class, () -> DeviceFiles.createFullyWritten(file, 4096 + 512, JNA));
        assertThrows(IllegalArgumentException.class, () -> DeviceFiles.createFullyWritten(file, 0, JNA));
        assertThrows(IllegalArgumentException.class, () -> DeviceFiles.createFullyWritten(file, -4096, JNA));
        assertFalse(Files.exists(file));
    }

    @Test
    void aFailedCreationLeavesNothingBehind() throws IOException {
        Path file = TestDevices.freshDir("df-fail").resolve("device");
        FaultyNativeIO io = new FaultyNativeIO(JNA).failAfter(FaultyNativeIO.Op.PWRITE, 1, NativeIOException.EIO);
        NativeIOException e = assertThrows(NativeIOException.class, () -> DeviceFiles.createFullyWritten(file, SIZE, io));
        assertEquals(NativeIOException.EIO, e.errno());
        assertFalse(Files.exists(file), "partial device file removed");

        io.failAfter(FaultyNativeIO.Op.FDATASYNC, 0, NativeIOException.EIO);
        assertThrows(NativeIOException.class, () -> DeviceFiles.createFullyWritten(file, 4096, io));
        assertFalse(Files.exists(file), "unsynced device file removed");
    }

    @Test
    void oDirectRefusalAtCreationIsExplained() throws IOException {
        Path file = TestDevices.freshDir("df-refused").resolve("device");
        FaultyNativeIO io = new FaultyNativeIO(JNA).failAfter(FaultyNativeIO.Op.OPEN, 0, NativeIOException.EINVAL);
        NativeIOException e = assertThrows(NativeIOException.class, () -> DeviceFiles.createFullyWritten(file, 4096, io));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("refuses O_DIRECT"), e.getMessage());
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
