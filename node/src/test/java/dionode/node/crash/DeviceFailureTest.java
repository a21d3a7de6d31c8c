package dionode.node.crash;

import static dionode.node.crash.Fixture.B;
import static dionode.node.crash.Fixture.errno;
import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.FaultyNativeIO;
import dionode.node.device.NativeIOException;
import dionode.node.server.NodeServer;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The I/O layer made to fail (FaultyNativeIO): a data pwrite that fails is EIO for that request
 * only, the node keeps serving every file, and no metadata ever claims the lost data was written
 * (the range stays unwritten or a hole, reads zeros, before and after a restart, and fsck is
 * clean, no block leaked). A failing journal write or flush aborts the journal: later metadata
 * changes are EROFS, reads and stat still work, and a restart comes back to the last commit.
 */
@Timeout(120)
class DeviceFailureTest {
    private static final long SIZE = 32 * Fixture.MIB;
    private Path device;
    private FaultyNativeIO io;
    private NodeServer node;
    private NodeClient c;
    private final Random rnd = new Random(5);

    @BeforeEach
    void start() throws Exception {
        device = Fixture.newDevice("device-failure");
        io = new FaultyNativeIO(Fixture.JNA);
        node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(200)), io);
        c = Fixture.client(node);
    }

    @AfterEach
    void stop() {
        if (c != null) {
            c.close();
        }
        if (node != null) {
            node.close();
        }
        Fixture.deleteQuietly(device);
    }

    private void restart() throws Exception {
        c.close();
        node.close();
        io.reset();
        node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(200)), io);
        c = Fixture.client(node);
    }

    private FileId create(String name) {
        return join(c.create(name, null, 0644, true)).file();
    }

    /** Device byte range of the file range {@code [off, off+len)}, which must be one extent. */
    private long[] physical(FileId ino, long off, long len) {
        for (Reply.FiemapExtent x : c.fiemapAll(ino)) {
            if (off >= x.logical() && off + len <= x.logical() + x.length()) {
                long p = x.physical() + (off - x.logical());
                return new long[] {p, p + len};
            }
        }
        throw new AssertionError("no single extent over [" + off + ", " + (off + len) + ")");
    }

    /** Nothing in {@code [off, off+len)} is a written extent. */
    private void notWritten(FileId ino, long off, long len) {
        for (Reply.FiemapExtent x : c.fiemapAll(ino)) {
            boolean overlaps = x.logical() < off + len && off < x.logical() + x.length();
            assertFalse(overlaps && !x.unwritten(), "a written extent over lost data: " + x);
        }
    }

    private void allZeros(byte[] b) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] != 0) {
                throw new AssertionError("byte " + i + " reads " + b[i] + " instead of zero");
            }
        }
    }

    /** Another file can be written and read while the fault is armed. */
    private void otherFileWorks(String name) {
        FileId ino = create(name);
        byte[] d = Population.bytes(rnd, 5 * B);
        join(c.write(ino, 0, d, IoFlags.DURABLE));
        assertArrayEquals(d, join(c.read(ino, 0, d.length, 0)));
    }

    @Test
    void failedWriteIntoPreallocatedBlocksLeavesThemUnwritten() throws Exception {
        FileId ino = create("prealloc");
        join(c.fallocate(ino, 0, 64 * B, false));
        long[] dev = physical(ino, 16 * B, 16 * B);
        io.failWritesOverlapping(dev[0], dev[1], NativeIOException.EIO);
        assertEquals(Errno.EIO, errno(c.write(ino, 16 * B, Population.bytes(rnd, 16 * B), 0)));
        assertEquals(Errno.EIO, errno(c.write(ino, 20 * B + 512, Population.bytes(rnd, 1024), IoFlags.DURABLE)),
                "unaligned write into an unwritten block: the zeroing write fails");
        assertTrue(io.injectedFailures() >= 2);
        otherFileWorks("other");
        notWritten(ino, 16 * B, 16 * B);
        allZeros(join(c.read(ino, 0, 64 * B, 0)));
        // a write elsewhere in the same file still works
        byte[] d = Population.bytes(rnd, 4 * B);
        join(c.write(ino, 40 * B, d, 0));
        join(c.fsync(ino));
        restart();
        notWritten(ino, 16 * B, 16 * B);
        allZeros(join(c.read(ino, 16 * B, 16 * B, 0)));
        assertArrayEquals(d, join(c.read(ino, 40 * B, d.length, 0)));
        // the blocks work again once the media does
        byte[] again = Population.bytes(rnd, 16 * B);
        join(c.write(ino, 16 * B, again, IoFlags.DURABLE));
        assertArrayEquals(again, join(c.read(ino, 16 * B, again.length, 0)));
        c.close();
        node.close();
        node = null;
        c = null;
        assertEquals(List.of(), Fixture.fsck(device));
    }

    @Test
    void failedExtendingWriteGivesItsBlocksBack() throws Exception {
        FileId ino = create("extending");
        byte[] head = Population.bytes(rnd, B);
        join(c.write(ino, 0, head, IoFlags.DURABLE));
        long[] first = physical(ino, 0, B);
        long free = join(c.stats()).get("free_blocks");
        // the allocator puts the next blocks right after the first one (ext4_ext_find_goal)
        io.failWritesOverlapping(first[1], first[1] + 4 * Fixture.MIB, NativeIOException.EIO);
        assertEquals(Errno.EIO, errno(c.write(ino, B, Population.bytes(rnd, 32 * B), 0)));
        assertEquals(Errno.EIO, errno(c.write(ino, B, Population.bytes(rnd, 32 * B), IoFlags.DURABLE)));
        Reply.FileStat st = join(c.stat(ino));
        assertEquals(B, st.size(), "i_size unchanged by the failed extending writes");
        assertEquals(1, st.blocks(), "blocks past i_size given back (ext4_truncate_failed_write)");
        notWritten(ino, B, 32 * B);
        otherFileWorks("other");
        join(c.fsync(ino));
        waitFor(() -> join(c.stats()).get("free_blocks") < free - 4, "other file allocated");
        restart();
        st = join(c.stat(ino));
        assertEquals(B, st.size());
        assertEquals(1, st.blocks());
        assertArrayEquals(head, join(c.read(ino, 0, B, 0)));
        c.close();
        node.close();
        node = null;
        c = null;
        assertEquals(List.of(), Fixture.fsck(device), "no leaked blocks");
    }

    @Test
    void failedWriteIntoAHoleInsideTheFileNeverBecomesWritten() throws Exception {
        FileId ino = create("holes");
        join(c.truncate(ino, 4 * Fixture.MIB));
        join(c.write(ino, 0, Population.bytes(rnd, B), 0));
        long[] first = physical(ino, 0, B);
        io.failWritesOverlapping(first[1], first[1] + 4 * Fixture.MIB, NativeIOException.EIO);
        assertEquals(Errno.EIO, errno(c.write(ino, 2 * B, Population.bytes(rnd, 8 * B), IoFlags.DURABLE)));
        assertEquals(Errno.EIO, errno(c.write(ino, 20 * B + 512, Population.bytes(rnd, 512), 0)));
        notWritten(ino, B, 32 * B);
        allZeros(join(c.read(ino, B, 32 * B, 0)));
        otherFileWorks("other");
        join(c.fsync(ino));
        restart();
        notWritten(ino, B, 32 * B);
        allZeros(join(c.read(ino, B, 32 * B, 0)));
        assertEquals(4 * Fixture.MIB, join(c.stat(ino)).size());
    }

    @Test
    void failedReadIsEioAndTheNodeStaysUp() throws Exception {
        FileId ino = create("unreadable");
        byte[] d = Population.bytes(rnd, 8 * B);
        join(c.write(ino, 0, d, IoFlags.DURABLE));
        long[] dev = physical(ino, 0, 8 * B);
        io.failOverlapping(FaultyNativeIO.Op.PREAD, dev[0], dev[1], NativeIOException.EIO);
        assertEquals(Errno.EIO, errno(c.read(ino, 0, 8 * B, 0)));
        otherFileWorks("other");
        io.clear(FaultyNativeIO.Op.PREAD);
        assertArrayEquals(d, join(c.read(ino, 0, d.length, 0)));
    }

    @Test
    void journalWriteFailureMakesMetadataChangesErofsAndReadsStillWork() throws Exception {
        journalFailure(() -> {
            long from = node.volume().layout().journalStart() * B;
            long to = from + node.volume().layout().journalBlocks() * B;
            io.failWritesOverlapping(from, to, NativeIOException.EIO);
        });
    }

    @Test
    void journalFlushFailureMakesMetadataChangesErofsAndReadsStillWork() throws Exception {
        journalFailure(() -> io.failAlwaysAfter(FaultyNativeIO.Op.FDATASYNC, 0, NativeIOException.EIO));
    }

    private void journalFailure(Runnable arm) throws Exception {
        FileId ino = create("committed");
        byte[] d = Population.bytes(rnd, 8 * B);
        join(c.write(ino, 0, d, 0));
        join(c.chmod(ino, 0600));
        join(c.fsync(ino));
        arm.run();
        // the next commit fails: the durable write's conversion cannot be made durable
        byte[] tail = Population.bytes(rnd, 4 * B);
        Errno first = errno(c.write(ino, 8 * B, tail, IoFlags.DURABLE));
        assertTrue(first == Errno.EROFS || first == Errno.EIO, "durable write over a failing journal: " + first);
        assertTrue(node.volume().journal().isAborted(), "journal aborted (fail sticky)");
        // every later metadata change is EROFS
        assertEquals(Errno.EROFS, errno(c.create("new", null, 0644, true)));
        assertEquals(Errno.EROFS, errno(c.truncate(ino, B)));
        assertEquals(Errno.EROFS, errno(c.chmod(ino, 0644)));
        assertEquals(Errno.EROFS, errno(c.fallocate(ino, 64 * B, 4 * B, false)));
        assertEquals(Errno.EROFS, errno(c.punchHole(ino, 0, B)));
        assertEquals(Errno.EROFS, errno(c.write(ino, 128 * B, Population.bytes(rnd, B), 0)), "allocating write");
        assertEquals(Errno.EROFS, errno(c.fsync(ino)));
        assertEquals(Errno.EROFS, errno(c.unlink("committed")));
        // reads, stat, fiemap, list still work
        assertArrayEquals(d, join(c.read(ino, 0, d.length, 0)));
        assertEquals(0600, join(c.stat(ino)).mode());
        assertFalse(join(c.fiemap(ino, 0, 0)).isEmpty());
        assertEquals(List.of("committed"), join(c.list()).stream().map(Reply.DirEntry::name).toList());
        assertNull(errno(c.stats()));
        restart();
        // back to the last commit; the failed one's outcome is unknown (a commit whose log write
        // reached the disk and whose flush failed may be replayed), but if it survived, its data did
        assertEquals(List.of("committed"), join(c.list()).stream().map(Reply.DirEntry::name).toList());
        long size = join(c.stat(ino)).size();
        assertTrue(size == 8 * B || size == 12 * B, "size " + size);
        if (size == 12 * B) {
            assertArrayEquals(tail, join(c.read(ino, 8 * B, tail.length, 0)));
        } else {
            notWritten(ino, 8 * B, 4 * B);
        }
        assertEquals(0600, join(c.stat(ino)).mode());
        assertArrayEquals(d, join(c.read(ino, 0, d.length, 0)));
        c.close();
        node.close();
        node = null;
        c = null;
        assertEquals(List.of(), Fixture.fsck(device));
    }

    private static void waitFor(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}
