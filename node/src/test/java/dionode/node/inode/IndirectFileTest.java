package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.node.server.NodeServer;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Files without extents (DESIGN §4, patch 2's world) through a real node: ext3-style pointers at
 * every level, the direct write into a hole that falls back to buffered, what needs unwritten
 * extents refused, the smaller maximum size, and all of it after a restart with fsck clean.
 */
class IndirectFileTest {
    private static final int B = 4096;
    private static final long SIZE = 64L << 20;
    private static final long SINGLE = 12L * B;
    private static final long DOUBLE = (12L + 1024) * B;
    private static final long TRIPLE = (12L + 1024 + 1024L * 1024) * B;

    private Path device;
    private NodeServer node;
    private NodeClient c;

    @BeforeEach
    void start() throws Exception {
        device = Fixture.formattedDevice("indirect", SIZE);
        open();
    }

    private void open() throws Exception {
        node = Fixture.start(Fixture.config(device, SIZE, java.time.Duration.ofMillis(200)), Fixture.JNA);
        c = Fixture.client(node);
    }

    private void close() {
        c.close();
        node.close();
    }

    @AfterEach
    void stop() {
        close();
        Fixture.deleteQuietly(device);
    }

    private FileId create(String name) {
        return Fixture.join(c.create(new Request.Create(name, LockPolicy.ZEROING_AWARE, 0644, true, false, true))).file();
    }

    private static byte[] fill(int len, int seed) {
        byte[] data = new byte[len];
        for (int i = 0; i < len; i++) {
            data[i] = (byte) (seed * 31 + i * 7 + 1);
        }
        return data;
    }

    private Map<String, Long> stats() {
        return Fixture.join(c.stats());
    }

    @Test
    void pointersAtEveryLevelReadBackAndSurviveARestart() throws Exception {
        FileId f = create("levels");
        long[] offsets = {0, SINGLE, DOUBLE, TRIPLE};
        for (int i = 0; i < offsets.length; i++) {
            Fixture.join(c.write(f, offsets[i], fill(B, i), 0));
        }
        Reply.FileStat stat = Fixture.join(c.stat(f));
        assertEquals("indirect", stat.mapping());
        // four data blocks; pointer blocks: single 1, double 2, triple 3
        assertEquals(10, stat.blocks());
        assertEquals(new Reply.Layout(4, 4, 0), stat.layout());
        close();
        assertEquals(List.of(), Fixture.fsck(device));
        open();
        for (int i = 0; i < offsets.length; i++) {
            assertArrayEquals(fill(B, i), Fixture.join(c.read(f, offsets[i], B, 0)), "block at " + offsets[i]);
        }
        assertArrayEquals(new byte[B], Fixture.join(c.read(f, SINGLE + B, B, 0)), "a hole reads as zeros");
        long free = stats().get("free_blocks");
        Fixture.join(c.truncate(f, 0));
        assertEquals(0, Fixture.join(c.stat(f)).blocks());
        // pointer blocks, like extent blocks, come back once the checkpoint has written their last images home
        close();
        assertEquals(List.of(), Fixture.fsck(device));
        open();
        assertEquals(free + 10, stats().get("free_blocks"), "data and pointer blocks freed");
    }

    @Test
    void aDirectWriteIntoAHoleInsideTheFileFallsBackToBuffered() throws Exception {
        FileId f = create("fallback");
        Fixture.join(c.truncate(f, 1 << 20));
        Map<String, Long> before = stats();
        String answer = Fixture.join(c.explain(f, 64 * B, 2 * B, false)).answer();
        assertTrue(answer.contains("falls back to buffered I/O: 2 blocks are holes inside i_size"), answer);
        byte[] data = fill(2 * B, 3);
        assertEquals(2L * B, Fixture.join(c.write(f, 64 * B, data, 0)));
        Map<String, Long> after = stats();
        assertEquals(1, after.get("dio_fallbacks") - before.get("dio_fallbacks"));
        assertEquals(1, after.get("buffered_writes") - before.get("buffered_writes"));
        assertEquals(0, after.get("page_cache_dirty"), "the fallback flushed its range before it answered");
        assertEquals(2, after.get("writeback_pages") - before.get("writeback_pages"));
        assertArrayEquals(data, Fixture.join(c.read(f, 64 * B, 2 * B, 0)));
        Reply.FileStat stat = Fixture.join(c.stat(f));
        assertEquals(new Reply.Layout(1, 2, 0), stat.layout(), "allocated written: no unwritten state");
        // an overwrite of those blocks and an extending write need no fallback
        Fixture.join(c.write(f, 64 * B, fill(B, 4), 0));
        Fixture.join(c.write(f, 1 << 20, fill(B, 5), 0));
        assertEquals(1, stats().get("dio_fallbacks") - before.get("dio_fallbacks"));
        assertEquals((1 << 20) + B, Fixture.join(c.stat(f)).size());
        // NOWAIT cannot allocate (patch 1), fallback or not
        assertEquals(Errno.EAGAIN, Fixture.errno(c.write(f, 128 * B, fill(B, 6), IoFlags.NOWAIT)));
        close();
        assertEquals(List.of(), Fixture.fsck(device));
        open();
        assertArrayEquals(fill(B, 4), Fixture.join(c.read(f, 64 * B, B, 0)));
        assertArrayEquals(Arrays.copyOfRange(data, B, 2 * B), Fixture.join(c.read(f, 65 * B, B, 0)));
        assertArrayEquals(fill(B, 5), Fixture.join(c.read(f, 1 << 20, B, 0)));
    }

    @Test
    void whatNeedsUnwrittenExtentsIsRefusedAndPunchWorks() {
        FileId f = create("refusals");
        Fixture.join(c.write(f, 0, fill(4 * B, 1), 0));
        assertEquals(Errno.EOPNOTSUPP, Fixture.errno(c.fallocate(f, 0, 1 << 20, false)));
        assertEquals(Errno.EOPNOTSUPP, Fixture.errno(c.zeroRange(f, 0, B, true)));
        Fixture.join(c.punchHole(f, B, 2 * B));
        assertArrayEquals(new byte[2 * B], Fixture.join(c.read(f, B, 2 * B, 0)));
        assertEquals(2, Fixture.join(c.stat(f)).blocks());
        // s_maxbytes of a bitmap-mapped file: about 4 TiB, where an extent file reaches 16 TiB
        assertEquals(Errno.EFBIG, Fixture.errno(c.write(f, 5L << 40, fill(B, 2), 0)));
        FileId extents = Fixture.join(c.create("extents", LockPolicy.ZEROING_AWARE, 0644, true)).file();
        Fixture.join(c.write(extents, 5L << 40, fill(B, 2), 0));
        assertEquals("extents", Fixture.join(c.stat(extents)).mapping());
    }
}
