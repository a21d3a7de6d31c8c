package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A full device answers ENOSPC with nothing half-written, and keeps serving. */
class NoSpaceTest {

    @Test
    void fullDeviceIsEnospcWithNothingChanged() throws Exception {
        Path device = TestNodes.newDevicePath();
        try (NodeServer node = TestNodes.start(device, 16 << 20, LockPolicy.ZEROING_AWARE);
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            FileId keep = c.create("keep", null, 0644, true).toCompletableFuture().join().file();
            byte[] kept = new byte[8192];
            java.util.Arrays.fill(kept, (byte) 9);
            c.write(keep, 0, kept, 0).toCompletableFuture().join();
            FileId ino = c.create("fill", null, 0644, true).toCompletableFuture().join().file();
            byte[] chunk = new byte[1 << 20];
            long off = 0;
            Errno e = null;
            while (e == null) {
                try {
                    c.write(ino, off, chunk, 0).toCompletableFuture().join();
                    off += chunk.length;
                } catch (java.util.concurrent.CompletionException ex) {
                    e = ((dionode.protocol.client.NodeException) ex.getCause()).errno();
                }
            }
            assertEquals(Errno.ENOSPC, e);
            long end = off;
            Reply.FileStat st = c.stat(ino).toCompletableFuture().join();
            assertEquals(off, st.size(), "the refused write did not move i_size");
            List<Reply.FiemapExtent> map = c.fiemap(ino, 0, 0).toCompletableFuture().join();
            assertTrue(map.stream().noneMatch(Reply.FiemapExtent::unwritten), "no unwritten leftovers: " + map);
            assertEquals(Errno.ENOSPC, errnoOf(c, () -> c.fallocate(ino, end, 64 << 20, false).toCompletableFuture().join()));
            assertEquals(off, c.stat(ino).toCompletableFuture().join().size());
            assertArrayEquals(kept, c.read(keep, 0, 8192, 0).toCompletableFuture().join());
            // freeing space makes writes work again
            c.truncate(ino, 0).toCompletableFuture().join();
            c.fsync(ino).toCompletableFuture().join();
            c.write(ino, 0, chunk, 0).toCompletableFuture().join();
        } finally {
            Files.deleteIfExists(device);
        }
    }

    @Test
    void blocksFreedByAnUncommittedUnlinkAreCommittedOnDemand() throws Exception {
        Path device = TestNodes.newDevicePath();
        // no commit from the interval: only the allocation's own retry can give the blocks back
        try (NodeServer node = NodeServer.start(TestNodes.config(device, 16 << 20, LockPolicy.ZEROING_AWARE)
                .withTimes(java.time.Duration.ofHours(1), java.time.Duration.ofSeconds(30)), new dionode.node.device.JnaNativeIO());
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            long free = c.stats().toCompletableFuture().join().get("free_blocks");
            long most = (free - 64) * 4096;
            FileId first = c.create("first", null, 0644, true).toCompletableFuture().join().file();
            c.fallocate(first, 0, most, false).toCompletableFuture().join();
            c.unlink("first").toCompletableFuture().join();
            assertEquals(64, c.stats().toCompletableFuture().join().get("free_blocks"), "freed blocks wait for the commit");
            FileId second = c.create("second", null, 0644, true).toCompletableFuture().join().file();
            c.fallocate(second, 0, most, false).toCompletableFuture().join();
            Map<String, Long> stats = c.stats().toCompletableFuture().join();
            assertEquals(1, stats.get("enospc_retries"));
            assertEquals(most / 4096, c.stat(second).toCompletableFuture().join().layout().unwrittenBlocks());
            // more than the device holds, even with every freed block back, is still ENOSPC at once
            FileId third = c.create("third", null, 0644, true).toCompletableFuture().join().file();
            assertEquals(Errno.ENOSPC, errnoOf(c, () -> c.fallocate(third, 0, most, false).toCompletableFuture().join()));
            assertEquals(1, c.stats().toCompletableFuture().join().get("enospc_retries"));
            assertEquals(0, c.stat(third).toCompletableFuture().join().blocks());
        } finally {
            Files.deleteIfExists(device);
        }
    }

    private static Errno errnoOf(NodeClient c, Runnable r) {
        try {
            r.run();
            return null;
        } catch (java.util.concurrent.CompletionException ex) {
            return ((dionode.protocol.client.NodeException) ex.getCause()).errno();
        }
    }
}
