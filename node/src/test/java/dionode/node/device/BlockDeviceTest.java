package dionode.node.device;

import static dionode.node.device.TestDevices.JNA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BlockDeviceTest {
    private static final int MIB = 1 << 20;

    @Test
    void writesAndReadsBack14336BytesAtOffset512() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-roundtrip", MIB);
        try (BlockDevice dev = BlockDevice.open(file, JNA, 0)) {
            ByteBuffer out = AlignedBuffers.allocateAligned(14336);
            TestDevices.fill(out, 1);
            dev.write(512, out);
            assertEquals(0, out.position(), "write leaves the position alone");
            assertEquals(14336, out.limit());

            ByteBuffer in = AlignedBuffers.allocateAligned(16384);
            dev.read(0, in);
            assertEquals(0, in.position(), "read leaves the position alone");
            assertEquals(-1, TestDevices.firstNonZero(in.duplicate().limit(512)), "sector before untouched");
            assertEquals(-1, TestDevices.firstMismatch(in.duplicate().position(512).limit(512 + 14336), 1));
            assertEquals(-1, TestDevices.firstNonZero(in.duplicate().position(512 + 14336)), "sector after untouched");
            assertEquals(14336, dev.traffic().bytesWritten());
            assertEquals(16384, dev.traffic().bytesRead());
        }
    }

    @Test
    void transfersFromTheBufferPositionNotIndexZero() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-position", MIB);
        try (BlockDevice dev = BlockDevice.open(file, JNA, 0)) {
            ByteBuffer out = AlignedBuffers.allocateAligned(8192);
            out.position(1024).limit(1024 + 2048);
            TestDevices.fill(out, 2);
            dev.write(4096, out);
            assertEquals(1024, out.position());

            ByteBuffer in = AlignedBuffers.allocateAligned(8192);
            in.position(512).limit(512 + 2048);
            dev.read(4096, in);
            assertEquals(512, in.position());
            assertEquals(-1, TestDevices.firstMismatch(in, 2));
        }
    }

    @Test
    void misalignedOffsetLengthOrBufferIsIllegalArgument() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-misaligned", MIB);
        try (BlockDevice dev = BlockDevice.open(file, JNA, 0)) {
            ByteBuffer buf = AlignedBuffers.allocateAligned(8192);
            buf.limit(4096);
            assertThrows(IllegalArgumentException.class, () -> dev.write(100, buf), "offset");
            assertThrows(IllegalArgumentException.class, () -> dev.read(-512, buf), "negative offset");
            assertThrows(IllegalArgumentException.class, () -> dev.write(0, buf.duplicate().limit(1000)), "length");
            assertThrows(IllegalArgumentException.class, () -> dev.read(0, buf.duplicate().position(7).limit(7 + 512)),
                    "buffer address");
            assertThrows(IllegalArgumentException.class, () -> dev.write(0, ByteBuffer.allocate(512)), "heap buffer");
        }
    }

    @Test
    void detectsSectorSize512HereAndHonoursTheOverride() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-sector", MIB);
        try (BlockDevice dev = BlockDevice.open(file, JNA, 0)) {
            assertEquals(512, dev.sectorSize(), "ext4 on a 512-byte-sector disk accepts 512-aligned O_DIRECT");
            assertEquals(MIB, dev.size());
            assertEquals(file, dev.path());
            assertFalse(dev.isBlockDevice());
        }
        try (BlockDevice dev = BlockDevice.open(file, JNA, 4096)) {
            assertEquals(4096, dev.sectorSize());
            ByteBuffer buf = AlignedBuffers.allocateAligned(4096);
            assertThrows(IllegalArgumentException.class, () -> dev.write(512, buf));
            dev.write(8192, buf);
        }
        assertThrows(IllegalArgumentException.class, () -> BlockDevice.open(file, JNA, 1000));
    }

    @Test
    void writePastTheEndIsEnospcAndReadPastTheEndIsEio() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-end", 64 * 1024);
        try (BlockDevice dev = BlockDevice.open(file, JNA, 0)) {
            ByteBuffer buf = AlignedBuffers.allocateAligned(4096);
            dev.write(64 * 1024 - 4096, buf);
            NativeIOException straddle = assertThrows(NativeIOException.class, () -> dev.write(64 * 1024 - 2048, buf));
            assertEquals(NativeIOException.ENOSPC, straddle.errno());
            NativeIOException beyond = assertThrows(NativeIOException.class, () -> dev.write(1L << 40, buf));
            assertEquals(NativeIOException.ENOSPC, beyond.errno());
            assertTrue(beyond.getMessage().contains(file.toString()), beyond.getMessage());
            NativeIOException read = assertThrows(NativeIOException.class, () -> dev.read(64 * 1024, buf));
            assertEquals(NativeIOException.EIO, read.errno());
        }
        assertEquals(64 * 1024, Files.size(file), "a device file never grows");
    }

    @Test
    void missingDeviceIsEnoentNamingThePath() throws IOException {
        Path missing = TestDevices.freshDir("bd-missing").resolve("nope");
        NativeIOException e = assertThrows(NativeIOException.class, () -> BlockDevice.open(missing, JNA, 0));
        assertEquals(NativeIOException.ENOENT, e.errno());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void oDirectRefusalNamesThePathAndTheRemedy() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-refused", MIB);
        // EINVAL at open is how a filesystem without O_DIRECT answers.
        FaultyNativeIO io = new FaultyNativeIO(JNA).failAfter(FaultyNativeIO.Op.OPEN, 0, NativeIOException.EINVAL);
        NativeIOException e = assertThrows(NativeIOException.class, () -> BlockDevice.open(file, io, 0));
        assertEquals(NativeIOException.EINVAL, e.errno());
        assertRefusalMessage(e, file);
    }

    @Test
    void tmpfsRefusesODirectWithAClearMessage() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type()), "no tmpfs at /dev/shm");
        Path file = shm.resolve("dionode-device-test-" + ProcessHandle.current().pid());
        try {
            Files.write(file, new byte[16384]);
            BlockDevice dev;
            try {
                dev = BlockDevice.open(file, JNA, 0);
            } catch (NativeIOException e) {
                assertEquals(NativeIOException.EINVAL, e.errno());
                assertRefusalMessage(e, file);
                return;
            }
            dev.close();
            // Linux 6.6 gave tmpfs O_DIRECT (through its page cache): nothing to refuse here.
            assumeTrue(false, "this kernel's tmpfs accepts O_DIRECT");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static void assertRefusalMessage(NativeIOException e, Path file) {
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()), m);
        assertTrue(m.contains("refuses O_DIRECT"), m);
        assertTrue(m.contains("tmpfs"), m);
        assertTrue(m.contains("block device"), m);
    }

    @Test
    void injectedEioOnTheThirdPwriteSurfacesAsErrno5() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-fault", MIB);
        FaultyNativeIO io = new FaultyNativeIO(JNA);
        try (BlockDevice dev = BlockDevice.open(file, io, 0)) {
            io.failAfter(FaultyNativeIO.Op.PWRITE, 2, NativeIOException.EIO);
            ByteBuffer buf = AlignedBuffers.allocateAligned(4096);
            dev.write(0, buf);
            dev.write(4096, buf);
            NativeIOException e = assertThrows(NativeIOException.class, () -> dev.write(8192, buf));
            assertEquals(NativeIOException.EIO, e.errno());
            assertEquals("pwrite", e.syscall());
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("[injected]"), e.getMessage());
            dev.write(8192, buf); // one-shot: healed
            assertEquals(1, io.injectedFailures());
            assertEquals(4, io.calls(FaultyNativeIO.Op.PWRITE));
        }
    }

    @Test
    void deadDeviceFailsEveryFlushAfterwards() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-dead", MIB);
        FaultyNativeIO io = new FaultyNativeIO(JNA);
        try (BlockDevice dev = BlockDevice.open(file, io, 0)) {
            io.failAlwaysAfter(FaultyNativeIO.Op.FDATASYNC, 1, NativeIOException.EIO);
            dev.flush();
            for (int i = 0; i < 3; i++) {
                assertEquals(NativeIOException.EIO, assertThrows(NativeIOException.class, dev::flush).errno());
            }
            io.reset();
            dev.flush();
        }
    }

    @Test
    void badMediaRangeFailsOnlyOverlappingWrites() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-range", MIB);
        FaultyNativeIO io = new FaultyNativeIO(JNA).failWritesOverlapping(8192, 12288, NativeIOException.EIO);
        try (BlockDevice dev = BlockDevice.open(file, io, 0)) {
            ByteBuffer buf = AlignedBuffers.allocateAligned(4096);
            dev.write(4096, buf);
            dev.write(12288, buf);
            assertThrows(NativeIOException.class, () -> dev.write(6144, buf));
            assertThrows(NativeIOException.class, () -> dev.write(8192, buf.duplicate().limit(512)));
            dev.read(8192, buf); // reads are not affected
        }
    }

    @Test
    void shortTransfersAreLoopedAndZeroTransfersAreEio() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-short", MIB);
        FaultyNativeIO io = new FaultyNativeIO(JNA)
                .limitTransfer(FaultyNativeIO.Op.PWRITE, 512)
                .limitTransfer(FaultyNativeIO.Op.PREAD, 1024);
        try (BlockDevice dev = BlockDevice.open(file, io, 0)) {
            ByteBuffer out = AlignedBuffers.allocateAligned(16384);
            out.position(4096);
            TestDevices.fill(out, 3);
            long before = io.calls(FaultyNativeIO.Op.PWRITE);
            dev.write(1536, out);
            assertEquals(4096, out.position());
            assertEquals(24, io.calls(FaultyNativeIO.Op.PWRITE) - before, "12288 bytes in 512-byte pieces");

            ByteBuffer in = AlignedBuffers.allocateAligned(12288);
            dev.read(1536, in);
            assertEquals(0, in.position());
            assertEquals(-1, TestDevices.firstMismatch(in, 3));

            io.limitTransfer(FaultyNativeIO.Op.PREAD, 0);
            NativeIOException e = assertThrows(NativeIOException.class, () -> dev.read(0, in));
            assertEquals(NativeIOException.EIO, e.errno());
        }
    }

    @Test
    void powerCutDropsLaterWritesSilently() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-powercut", MIB);
        FaultyNativeIO io = new FaultyNativeIO(JNA).dropWritesAfter(1);
        ByteBuffer buf = AlignedBuffers.allocateAligned(4096);
        TestDevices.fill(buf, 4);
        try (BlockDevice dev = BlockDevice.open(file, io, 0)) {
            dev.write(0, buf);
            dev.write(4096, buf);
            dev.flush();
            assertEquals(1, io.droppedWrites());
        }
        try (BlockDevice dev = BlockDevice.open(file, JNA, 0)) {
            ByteBuffer in = AlignedBuffers.allocateAligned(8192);
            dev.read(0, in);
            assertEquals(-1, TestDevices.firstMismatch(in.duplicate().limit(4096), 4), "reached the device");
            assertEquals(-1, TestDevices.firstNonZero(in.duplicate().position(4096)), "lost in the cut");
        }
    }

    @Test
    void ioAfterCloseFails() throws IOException {
        Path file = TestDevices.newDeviceFile("bd-closed", MIB);
        BlockDevice dev = BlockDevice.open(file, JNA, 0);
        dev.close();
        dev.close();
        ByteBuffer buf = AlignedBuffers.allocateAligned(512);
        assertThrows(ClosedChannelException.class, () -> dev.write(0, buf));
        assertThrows(ClosedChannelException.class, () -> dev.read(0, buf));
        assertThrows(ClosedChannelException.class, dev::flush);
    }

    @Test
    void concurrentWritersOnThePoolLandEveryByte() throws Exception {
        Path file = TestDevices.newDeviceFile("bd-concurrent", 4 * MIB);
        AlignedBuffers buffers = new AlignedBuffers();
        try (BlockDevice dev = BlockDevice.open(file, JNA, 0); IoExecutor pool = new IoExecutor(8, 1024)) {
            int writes = 512;
            int len = 7680; // 15 sectors: offsets are 512-aligned, not 4096-aligned
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int i = 0; i < writes; i++) {
                int seed = i;
                long offset = (long) i * len;
                done.add(pool.submit(() -> {
                    ByteBuffer b = buffers.acquire(len);
                    try {
                        TestDevices.fill(b, seed);
                        dev.write(offset, b);
                    } finally {
                        buffers.release(b);
                    }
                    return null;
                }));
            }
            CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
            dev.flush();
            ByteBuffer in = AlignedBuffers.allocateAligned(len);
            for (int i = 0; i < writes; i++) {
                dev.read((long) i * len, in);
                assertEquals(-1, TestDevices.firstMismatch(in, i), "write " + i);
            }
        }
        assertEquals(0, buffers.outstanding());
        assertTrue(buffers.reused() > 0 && buffers.allocated() <= 16,
                "about one buffer per thread: " + buffers.allocated() + " allocated");
    }
}
