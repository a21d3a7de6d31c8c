package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A file of 2^17 extents (the seed's Test 1 layout over 512 MiB): removing its blocks takes
 * thousands of journal steps one after another, which must not grow the actor's stack per step.
 * Two such files in turn do not fit the device: the second needs the blocks the first gave back.
 */
class LargeExtentMapTest {
    static final int B = 4096;
    static final int BLOCKS = 1 << 17;

    @Test
    void truncateAndUnlinkOfAHundredThousandExtentsFinishAndFreeEveryBlock() throws Exception {
        Path device = TestNodes.newDevicePath();
        long free;
        try (NodeServer node = TestNodes.start(device, 640L << 20, LockPolicy.ZEROING_AWARE);
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            free = c.stats().toCompletableFuture().get().get("free_blocks");
            for (String name : List.of("truncated", "unlinked")) {
                FileId ino = c.create(name, null, 0644, true).toCompletableFuture().get().file();
                c.fallocate(ino, 0, (long) BLOCKS * B, false).toCompletableFuture().get();
                byte[] data = new byte[B];
                List<CompletableFuture<Long>> writes = new ArrayList<>();
                for (long b = 0; b < BLOCKS; b += 2) {
                    data[0] = (byte) (b + 1);
                    writes.add(c.write(ino, b * B, data.clone(), 0).toCompletableFuture());
                }
                CompletableFuture.allOf(writes.toArray(new CompletableFuture<?>[0])).get();
                Reply.Layout layout = c.stat(ino).toCompletableFuture().get().layout();
                assertEquals(BLOCKS / 2, layout.writtenBlocks());
                assertEquals(BLOCKS / 2, layout.unwrittenBlocks());
                assertEquals(BLOCKS, layout.extents());
                if (name.equals("truncated")) {
                    c.truncate(ino, B).toCompletableFuture().get();
                    byte[] first = new byte[B];
                    first[0] = 1;
                    assertArrayEquals(first, c.read(ino, 0, B, 0).toCompletableFuture().get());
                    assertEquals(1, c.stat(ino).toCompletableFuture().get().blocks());
                }
                c.unlink(name).toCompletableFuture().get();
            }
        }
        // every data and extent-node block is back, on the device
        try (NodeServer node = TestNodes.start(device, 640L << 20, LockPolicy.ZEROING_AWARE);
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            assertEquals(free, c.stats().toCompletableFuture().get().get("free_blocks"));
        } finally {
            Files.deleteIfExists(device);
        }
    }
}
