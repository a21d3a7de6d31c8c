package dionode.node.fs;

import static dionode.node.crash.Fixture.errno;
import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.Errno;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, item 10, through the real server and the CLI's fsck: fallocate promises space, so
 * writes into fallocated blocks of a full device must succeed, though converting them splits
 * extents and needs extent-node blocks the device no longer has free.
 */
class FallocatedFullDeviceTest {
    private static final int B = 4096;
    private static final int PREALLOCATED = 2048;
    private static final int WRITES = 700;

    @Test
    void scatteredWritesIntoFallocatedSpaceOfAFullDeviceSucceedAndFsckIsClean() throws Exception {
        Path device = TestNodes.newDevicePath();
        try {
            try (NodeServer node = TestNodes.start(device, 32 << 20, LockPolicy.ZEROING_AWARE);
                    NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
                FileId ino = join(c.create("pre", null, 0644, true)).file();
                join(c.fallocate(ino, 0, (long) PREALLOCATED * B, false));
                FileId fill = join(c.create("fill", null, 0644, true)).file();
                long end = fill(c, fill);
                assertEquals(Errno.ENOSPC, errno(c.write(fill, end, new byte[B], 0)), "the device is full");
                assertTrue(join(c.stats()).get("reserved_blocks") > 0, "blocks are held back for the conversions");

                byte[] model = new byte[PREALLOCATED * B];
                Random rnd = new Random(10);
                List<Integer> blocks = new ArrayList<>();
                for (int b = 0; b < PREALLOCATED; b++) {
                    blocks.add(b);
                }
                Collections.shuffle(blocks, rnd);
                for (int i = 0; i < WRITES; i++) {
                    int blk = blocks.get(i);
                    // mostly whole blocks (shared lock); every tenth 512 bytes inside one (exclusive, zeroing)
                    int len = i % 10 == 9 ? 512 : B;
                    long off = (long) blk * B + (len == B ? 0 : 1024);
                    byte[] data = new byte[len];
                    rnd.nextBytes(data);
                    try {
                        assertEquals(len, join(c.write(ino, off, data, 0)), "write " + i);
                    } catch (CompletionException e) {
                        throw new AssertionError("write " + i + " into fallocated block " + blk + " failed: " + e.getCause(), e);
                    }
                    System.arraycopy(data, 0, model, (int) off, len);
                }
                for (int at = 0; at < model.length; at += 1 << 20) {
                    assertArrayEquals(Arrays.copyOfRange(model, at, at + (1 << 20)), join(c.read(ino, at, 1 << 20, 0)),
                            "bytes from " + at);
                }
                Reply.FileStat st = join(c.stat(ino));
                assertEquals(PREALLOCATED, st.layout().writtenBlocks() + st.layout().unwrittenBlocks(),
                        "every preallocated block is still mapped");
                assertTrue(st.layout().extents() > 2 * 340, "the conversions split extents over several leaf blocks: " + st.layout());
                assertTrue(st.blocks() > PREALLOCATED, "the extent-node blocks are counted: " + st.blocks());
                join(c.unlink("pre"));
                join(c.unlink("fill"));
            }
            CorruptImageTest.FsckResult fsck = CorruptImageTest.FsckResult.run(device);
            assertEquals(0, fsck.exit(), fsck.out());
        } finally {
            Files.deleteIfExists(device);
        }
    }

    /** Extending writes to another file, in smaller and smaller pieces, until not one block more fits. */
    private static long fill(NodeClient c, FileId ino) {
        long off = 0;
        for (int chunk = 1 << 20; chunk >= B; chunk /= 4) {
            while (errno(c.write(ino, off, new byte[chunk], 0)) == null) {
                off += chunk;
            }
        }
        return off;
    }
}
