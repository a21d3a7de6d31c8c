package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The layout builders against an embedded node: fiemap must show the exact pattern. */
class LayoutsTest {
    static final long MIB = 1 << 20;
    static Target node;
    static NodeClient client;

    @BeforeAll
    static void start() throws Exception {
        // O_DIRECT needs a disk filesystem: the module's target/, not /tmp
        node = Target.embedded(Path.of("target"), 96 * MIB);
        client = node.connect();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    void test1LayoutAlternatesWrittenAndUnwritten4KiBBlocks() throws Exception {
        long size = 4 * MIB;
        FileId ino = Layouts.buildVerified(node, client, "t1", LockPolicy.OVERWRITE_CHECK, SeedTest.TEST1, size);
        List<Reply.FiemapExtent> ext = client.fiemapAll(ino);
        assertEquals(size / 4096, ext.size(), "one extent per block: neighbours always differ in state");
        for (int b = 0; b < ext.size(); b++) {
            Reply.FiemapExtent e = ext.get(b);
            assertEquals(b * 4096L, e.logical());
            assertEquals(4096, e.length());
            assertEquals(b % 2 == 1, e.unwritten(), "block " + b);
        }
        assertTrue((ext.get(ext.size() - 1).flags() & Reply.FiemapExtent.LAST) != 0);
        assertEquals(size, client.stat(ino).toCompletableFuture().join().size(), "i_size covers the file: no test write extends it");
        Layouts.Verification v = Layouts.verify(client, ino, SeedTest.TEST1, size);
        assertTrue(v.exact(), v.toString());
        assertEquals(size / 4096, v.blocks());
        // the same file is not a Test 2 layout
        assertFalse(Layouts.verify(client, ino, SeedTest.TEST2, size).exact());
        Layouts.remove(client, "t1");
    }

    @Test
    void test2LayoutIsWUUWPerStripeWithNeighbouringWrittenBlocksMerged() throws Exception {
        long size = 2 * MIB;
        FileId ino = Layouts.buildVerified(node, client, "t2", LockPolicy.ZEROING_AWARE, SeedTest.TEST2, size);
        List<Reply.FiemapExtent> ext = client.fiemapAll(ino);
        long stripes = size / 16384;
        // W | UU | WW (block 3 + next block 0, physically contiguous: merged) | UU | ... | UU | W
        assertEquals(2 * stripes + 1, ext.size());
        long pos = 0;
        for (int k = 0; k < ext.size(); k++) {
            Reply.FiemapExtent e = ext.get(k);
            assertEquals(pos, e.logical());
            long expectLen = (k == 0 || k == ext.size() - 1) ? 4096 : 8192;
            assertEquals(expectLen, e.length(), "extent " + k);
            assertEquals(k % 2 == 1, e.unwritten(), "extent " + k);
            pos += e.length();
        }
        assertEquals(size, pos);
        Layouts.Verification v = Layouts.verify(client, ino, SeedTest.TEST2, size);
        assertTrue(v.exact(), v.toString());
        assertEquals(size / 4096, v.blocks());
        assertFalse(Layouts.verify(client, ino, SeedTest.TEST1, size).exact());
        Layouts.remove(client, "t2");
    }

    @Test
    void verifyFollowsFiemapPagesAndSeesHolesAndChanges() throws Exception {
        // more than 16384 extents: fiemap answers in pages, continued from the end of the last extent
        long size = 72 * MIB;
        FileId ino = Layouts.buildVerified(node, client, "paged", LockPolicy.ZEROING_AWARE, SeedTest.TEST1, size);
        Layouts.Verification v = Layouts.verify(client, ino, SeedTest.TEST1, size);
        assertTrue(v.exact(), v.toString());
        assertEquals(size / 4096, v.extents());
        assertTrue(v.fiemapCalls() >= 2, v.toString());
        // one more write turns an unwritten block written: one mismatching block
        client.write(ino, 4096 * 1001, new byte[4096], 0).toCompletableFuture().join();
        Layouts.Verification w = Layouts.verify(client, ino, SeedTest.TEST1, size);
        assertEquals(1, w.mismatchingBlocks(), w.toString());
        // a hole is a gap
        client.punchHole(ino, 8 * MIB, 64 * 1024).toCompletableFuture().join();
        Layouts.Verification h = Layouts.verify(client, ino, SeedTest.TEST1, size);
        assertEquals(1, h.gaps(), h.toString());
        assertFalse(h.exact());
        Layouts.remove(client, "paged");
    }
}
