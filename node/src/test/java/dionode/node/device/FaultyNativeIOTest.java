package dionode.node.device;

import static dionode.node.device.TestDevices.JNA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dionode.node.device.FaultyNativeIO.Op;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultyNativeIOTest {
    private FaultyNativeIO io;
    private int fd;
    private final ByteBuffer buf = AlignedBuffers.allocateAligned(4096);

    @BeforeEach
    void open() throws IOException {
        Path file = TestDevices.newDeviceFile("faulty", 256 * 1024);
        io = new FaultyNativeIO(JNA);
        fd = io.open(file.toString(), NativeIO.O_RDWR | NativeIO.O_DIRECT | NativeIO.O_CLOEXEC);
    }

    @AfterEach
    void close() throws IOException {
        io.close(fd);
    }

    @Test
    void transparentUntilArmed() throws IOException {
        assertEquals(4096, io.pwrite(fd, buf, 4096, 0));
        assertEquals(4096, io.pread(fd, buf, 4096, 0));
        io.fdatasync(fd);
        assertEquals(1, io.calls(Op.PWRITE));
        assertEquals(0, io.injectedFailures());
    }

    @Test
    void failAfterCountsFromArmingAndFailsOnce() throws IOException {
        io.pread(fd, buf, 4096, 0);
        io.failAfter(Op.PREAD, 1, NativeIOException.ENOSPC);
        io.pread(fd, buf, 4096, 0);
        NativeIOException e = assertThrows(NativeIOException.class, () -> io.pread(fd, buf, 4096, 4096));
        assertEquals(NativeIOException.ENOSPC, e.errno());
        assertEquals("pread", e.syscall());
        io.pread(fd, buf, 4096, 0);
        io.pwrite(fd, buf, 4096, 0); // other ops unaffected
    }

    @Test
    void oneShotFaultHitsExactlyOneOfManyConcurrentCallers() throws Exception {
        io.failAfter(Op.PWRITE, 100, NativeIOException.EIO);
        AtomicInteger failures = new AtomicInteger();
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            ByteBuffer own = AlignedBuffers.allocateAligned(512);
            runs.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 100; i++) {
                    try {
                        io.pwrite(fd, own, 512, 0);
                    } catch (NativeIOException e) {
                        failures.incrementAndGet();
                    }
                }
            }));
        }
        CompletableFuture.allOf(runs.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
        assertEquals(1, failures.get());
        assertEquals(400, io.calls(Op.PWRITE));
    }

    @Test
    void stickyFaultsAndResetAndClear() throws IOException {
        io.failAlwaysAfter(Op.PWRITE, 0, NativeIOException.EROFS);
        for (int i = 0; i < 3; i++) {
            assertEquals(NativeIOException.EROFS,
                    assertThrows(NativeIOException.class, () -> io.pwrite(fd, buf, 4096, 0)).errno());
        }
        io.clear(Op.PWRITE);
        io.pwrite(fd, buf, 4096, 0);
        io.failAlwaysAfter(Op.FDATASYNC, 0, NativeIOException.EIO);
        assertThrows(NativeIOException.class, () -> io.fdatasync(fd));
        io.reset();
        io.fdatasync(fd);
        assertEquals(0, io.injectedFailures());
        assertEquals(0, io.calls(Op.PWRITE));
    }

    @Test
    void rangeFaultsMatchOverlapOnly() throws IOException {
        io.failOverlapping(Op.PREAD, 8192, 8704, NativeIOException.EIO);
        io.pread(fd, buf, 4096, 4096);          // [4096, 8192): touches the start, no overlap
        io.pread(fd, buf, 512, 8704);           // [8704, 9216): just after
        assertThrows(NativeIOException.class, () -> io.pread(fd, buf, 4096, 6144));
        assertThrows(NativeIOException.class, () -> io.pread(fd, buf, 512, 8192));
        io.pwrite(fd, buf, 4096, 8192);         // writes unaffected
        assertThrows(IllegalArgumentException.class, () -> io.failOverlapping(Op.FDATASYNC, 0, 1, 5));
        assertThrows(IllegalArgumentException.class, () -> io.failOverlapping(Op.PWRITE, 10, 10, 5));
    }

    @Test
    void hookSeesEveryCallAndMayFailIt() throws IOException {
        List<String> seen = new ArrayList<>();
        io.hook((op, f, offset, count) -> {
            seen.add(op + "@" + offset + "+" + count);
            if (offset == 4096) {
                throw new NativeIOException("pwrite", null, NativeIOException.EIO, "hook");
            }
        });
        io.pwrite(fd, buf, 512, 0);
        assertThrows(NativeIOException.class, () -> io.pwrite(fd, buf, 512, 4096));
        io.fdatasync(fd);
        assertEquals(List.of("PWRITE@0+512", "PWRITE@4096+512", "FDATASYNC@0+0"), seen);
    }
}
