package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NodeEndToEndTest {
    private Path device;
    private NodeServer node;

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (device != null) {
            Files.deleteIfExists(device);
        }
    }

    private static Errno errnoOf(Runnable r) {
        try {
            r.run();
        } catch (CompletionException e) {
            return ((NodeException) e.getCause()).errno();
        }
        return null;
    }

    @Test
    void sixtyFourConcurrentRequestsOnOneConnectionEachGetTheirOwnReply() throws Exception {
        device = TestNodes.newDevicePath();
        node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
        try (NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            int n = 64;
            FileId[] inos = new FileId[n];
            List<java.util.concurrent.CompletableFuture<Reply.InodeInfo>> creates = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                creates.add(c.create("f" + i, null, 0644, true).toCompletableFuture());
            }
            for (int i = 0; i < n; i++) {
                inos[i] = creates.get(i).join().file();
            }
            assertEquals(n, java.util.Arrays.stream(inos).distinct().count());
            // 64 writes of different sizes to different files in flight together, then 64 reads and 64 stats
            List<java.util.concurrent.CompletableFuture<Long>> writes = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                writes.add(c.write(inos[i], 0, pattern(i), 0).toCompletableFuture());
            }
            List<java.util.concurrent.CompletableFuture<byte[]>> reads = new java.util.ArrayList<>();
            List<java.util.concurrent.CompletableFuture<Reply.FileStat>> stats = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                assertEquals(pattern(i).length, writes.get(i).join());
            }
            for (int i = 0; i < n; i++) {
                reads.add(c.read(inos[i], 0, pattern(i).length, 0).toCompletableFuture());
                stats.add(c.stat(inos[i]).toCompletableFuture());
            }
            for (int i = 0; i < n; i++) {
                assertArrayEquals(pattern(i), reads.get(i).join(), "read of file " + i);
                assertEquals("f" + i, stats.get(i).join().name());
                assertEquals(pattern(i).length, stats.get(i).join().size());
            }
        }
    }

    /** File i: (i + 1) sectors of a byte pattern that names it. */
    private static byte[] pattern(int i) {
        byte[] b = new byte[(i + 1) * 512];
        for (int k = 0; k < b.length; k++) {
            b[k] = (byte) (i * 31 + k / 512);
        }
        return b;
    }

    @Test
    void writeReadBackSurvivesRestart() throws Exception {
        device = TestNodes.newDevicePath();
        node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
        byte[] data = new byte[1 << 20];
        new Random(1).nextBytes(data);
        FileId ino;
        List<Reply.FiemapExtent> before;
        try (NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            ino = c.create("f", null, 0644, true).toCompletableFuture().join().file();
            assertEquals(data.length, c.write(ino, 0, data, 0).toCompletableFuture().join());
            assertArrayEquals(data, c.read(ino, 0, data.length, 0).toCompletableFuture().join());
            // unaligned (512) write inside, then read the whole thing back
            byte[] patch = new byte[14336];
            new Random(2).nextBytes(patch);
            c.write(ino, 512, patch, IoFlags.DURABLE).toCompletableFuture().join();
            System.arraycopy(patch, 0, data, 512, patch.length);
            assertArrayEquals(data, c.read(ino, 0, data.length, 0).toCompletableFuture().join());
            Reply.FileStat st = c.stat(ino).toCompletableFuture().join();
            assertEquals(data.length, st.size());
            assertEquals(LockPolicy.ZEROING_AWARE, st.policy());
            before = c.fiemap(ino, 0, 0).toCompletableFuture().join();
            assertTrue(before.get(before.size() - 1).flags() != 0, "LAST flag");
            assertEquals(Errno.EINVAL, errnoOf(() -> c.write(ino, 100, new byte[512], 0).toCompletableFuture().join()));
            assertEquals(Errno.ENOENT, errnoOf(() -> c.lookup("nope").toCompletableFuture().join()));
            c.fsync(ino).toCompletableFuture().join();
        }
        node.close();
        node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
        try (NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            assertEquals(ino, c.lookup("f").toCompletableFuture().join().file());
            assertArrayEquals(data, c.read(ino, 0, data.length, 0).toCompletableFuture().join());
            assertEquals(before, c.fiemap(ino, 0, 0).toCompletableFuture().join());
        }
    }
}
