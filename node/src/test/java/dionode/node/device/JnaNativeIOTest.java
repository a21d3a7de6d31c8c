package dionode.node.device;

import static dionode.node.device.TestDevices.JNA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class JnaNativeIOTest {

    @Test
    void preadAndPwriteUseThePositionAndDoNotMoveIt() throws IOException {
        Path file = TestDevices.newDeviceFile("jna-rw", 64 * 1024);
        int fd = JNA.open(file.toString(), NativeIO.O_RDWR | NativeIO.O_DIRECT | NativeIO.O_CLOEXEC);
        try {
            ByteBuffer out = AlignedBuffers.allocateAligned(8192);
            out.position(512).limit(4608);
            TestDevices.fill(out, 6);
            assertEquals(4096, JNA.pwrite(fd, out, 4096, 1024));
            assertEquals(512, out.position());
            assertEquals(4608, out.limit());

            ByteBuffer in = AlignedBuffers.allocateAligned(8192);
            in.position(1024).limit(1024 + 4096);
            assertEquals(4096, JNA.pread(fd, in, 4096, 1024));
            assertEquals(1024, in.position());
            assertEquals(-1, TestDevices.firstMismatch(in, 6));

            assertEquals(0, JNA.pread(fd, in, 512, 64 * 1024), "end of file");
            JNA.fdatasync(fd);

            NativeIO.FileStat st = JNA.fstat(fd);
            assertTrue(st.isRegularFile());
            assertFalse(st.isBlockDevice());
            assertEquals(64 * 1024, st.size());

            NativeIOException e = assertThrows(NativeIOException.class, () -> JNA.blockDeviceSectorSize(fd));
            assertEquals(NativeIOException.ENOTTY, e.errno());
            assertThrows(NativeIOException.class, () -> JNA.blockDeviceSize(fd));

            NativeIOException misaligned = assertThrows(NativeIOException.class,
                    () -> JNA.pwrite(fd, out.duplicate().position(0), 100, 0));
            assertEquals(NativeIOException.EINVAL, misaligned.errno(), "the kernel's own O_DIRECT check");
            assertTrue(misaligned.getMessage().startsWith("pwrite(" + file), misaligned.getMessage());
        } finally {
            JNA.close(fd);
        }
    }

    @Test
    void errorsCarryErrnoSyscallAndPath() throws IOException {
        Path missing = TestDevices.freshDir("jna-errors").resolve("missing");
        NativeIOException e = assertThrows(NativeIOException.class, () -> JNA.open(missing.toString(), NativeIO.O_RDONLY));
        assertEquals(NativeIOException.ENOENT, e.errno());
        assertEquals("open", e.syscall());
        assertEquals(missing.toString(), e.path());
        assertTrue(e.getMessage().contains("open(" + missing) && e.getMessage().contains("ENOENT"), e.getMessage());

        ByteBuffer buf = AlignedBuffers.allocateAligned(512);
        NativeIOException badFd = assertThrows(NativeIOException.class, () -> JNA.pread(-1, buf, 512, 0));
        assertEquals(NativeIOException.EBADF, badFd.errno());
        assertTrue(badFd.getMessage().startsWith("pread("), badFd.getMessage());
        assertEquals(NativeIOException.EBADF, assertThrows(NativeIOException.class, () -> JNA.fdatasync(-1)).errno());
    }

    @Test
    void bufferMisuseIsIllegalArgument() {
        ByteBuffer direct = AlignedBuffers.allocateAligned(4096);
        assertThrows(IllegalArgumentException.class, () -> JNA.pwrite(0, ByteBuffer.allocate(512), 512, 0), "heap");
        assertThrows(IllegalArgumentException.class, () -> JNA.pwrite(0, direct.duplicate().limit(256), 512, 0), "count");
        assertThrows(IllegalArgumentException.class, () -> JNA.pread(0, direct.asReadOnlyBuffer(), 512, 0), "read-only");
        assertThrows(IllegalArgumentException.class, () -> JNA.pread(0, direct, -1, 0), "negative");
    }

    @Test
    void bufferAddressAgreesWithJna() {
        ByteBuffer base = ByteBuffer.allocateDirect(10_000);
        for (int offset : new int[] {0, 1, 512, 4095}) {
            ByteBuffer slice = base.position(offset).slice();
            assertEquals(Pointer.nativeValue(Native.getDirectBufferPointer(slice)), BufferAddress.of(slice));
        }
    }
}
