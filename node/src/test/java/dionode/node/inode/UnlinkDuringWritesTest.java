package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dionode.node.device.JnaNativeIO;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.Errno;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, item 8, through the real server: three clients write one file while a fourth unlinks
 * it. Every round, the unlink and every request of every writer must be answered within a bound,
 * and after the unlink the inode answers ENOENT. A round that wedges fails with the inode's lock
 * state.
 */
class UnlinkDuringWritesTest {
    private static final int B = 4096;
    private static final int ROUNDS = 120;
    private static final int WRITERS = 3;
    private static final int FILE_BLOCKS = 16;
    private static final long ROUND_SECONDS = 5;

    @Test
    void unlinkWhileThreeClientsWriteAlwaysAnswersEveryone() throws Exception {
        Path device = TestNodes.newDevicePath();
        // a short idle timeout: unlinked inodes are passivated and their numbers reused between rounds
        NodeConfig config = TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE)
                .withTimes(Duration.ofMillis(200), Duration.ofMillis(300));
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        List<NodeClient> writers = new ArrayList<>();
        try (NodeServer node = NodeServer.start(config, new JnaNativeIO(), Function.identity());
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            for (int i = 0; i < WRITERS; i++) {
                writers.add(NodeClient.connect("127.0.0.1", node.address().getPort()));
            }
            for (int round = 0; round < ROUNDS; round++) {
                runRound(node, c, writers, pool, round);
            }
        } finally {
            writers.forEach(NodeClient::close);
            pool.shutdownNow();
            Files.deleteIfExists(device);
        }
    }

    private static void runRound(NodeServer node, NodeClient c, List<NodeClient> writers, ExecutorService pool, int round)
            throws Exception {
        String name = "f" + round;
        FileId ino = bounded(c.create(name, null, 0644, true)).file();
        bounded(c.write(ino, 0, new byte[FILE_BLOCKS / 2 * B], 0));
        bounded(c.fallocate(ino, FILE_BLOCKS / 2 * B, FILE_BLOCKS / 2 * B, false));
        AtomicInteger answered = new AtomicInteger();
        List<Future<String>> loops = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            NodeClient wc = writers.get(w);
            Random rnd = new Random(round * 31L + w);
            loops.add(pool.submit(() -> writeUntilGone(wc, ino, rnd, answered)));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ROUND_SECONDS);
        while (answered.get() < WRITERS && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        Thread.sleep(round % 3);
        CompletableFuture<Void> unlink = c.unlink(name).toCompletableFuture();
        try {
            unlink.get(ROUND_SECONDS, TimeUnit.SECONDS);
            for (Future<String> loop : loops) {
                String failure = loop.get(ROUND_SECONDS, TimeUnit.SECONDS);
                if (failure != null) {
                    fail("round " + round + ": " + failure + "; inode " + ino + ": " + probe(node, ino));
                }
            }
        } catch (TimeoutException e) {
            fail("round " + round + " wedged (unlink answered: " + unlink.isDone() + "): " + probe(node, ino));
        }
        assertEquals(Errno.ENOENT, errno(c.stat(ino)), "round " + round);
        assertEquals(Errno.ENOENT, errno(c.read(ino, 0, B, 0)), "round " + round);
        assertEquals(Errno.ENOENT, errno(c.fsync(ino)), "round " + round);
    }

    /**
     * Writes, reads and syncs {@code ino} one request at a time until it answers ENOENT; returns
     * a description of anything else that went wrong, or null.
     */
    private static String writeUntilGone(NodeClient c, FileId ino, Random rnd, AtomicInteger answered) {
        for (int i = 0; i < 100_000; i++) {
            int blk = rnd.nextInt(FILE_BLOCKS);
            CompletionStage<?> op = switch (rnd.nextInt(7)) {
                case 0, 1 -> c.write(ino, (long) blk * B, new byte[B], 0);
                case 2 -> c.write(ino, (long) blk * B, new byte[B], IoFlags.ASYNC);
                case 3 -> c.write(ino, (long) blk * B + 512, new byte[512], 0);
                case 4 -> c.write(ino, (long) (FILE_BLOCKS + blk) * B, new byte[B], 0);
                case 5 -> c.read(ino, (long) blk * B, 2 * B, 0);
                default -> c.fsync(ino);
            };
            Errno e;
            try {
                e = errno(op);
            } catch (TimeoutException t) {
                return "request " + i + " of a writer was never answered";
            }
            if (i == 0) {
                answered.incrementAndGet();
            }
            if (e == Errno.ENOENT) {
                return null;
            }
            if (e != null) {
                return "request " + i + " of a writer failed with " + e;
            }
        }
        return "the file never went away";
    }

    private static Errno errno(CompletionStage<?> s) throws TimeoutException {
        try {
            s.toCompletableFuture().get(ROUND_SECONDS, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof NodeException n) {
                return n.errno();
            }
            throw new AssertionError(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static <T> T bounded(CompletionStage<T> s) {
        return s.toCompletableFuture().orTimeout(ROUND_SECONDS, TimeUnit.SECONDS).join();
    }

    private static String probe(NodeServer node, FileId file) {
        CompletableFuture<InodeCommand.LockSnapshot> f = new CompletableFuture<>();
        node.region().tell(new InodeRegion.Forward(file.ino(), new InodeCommand.Probe(f)));
        try {
            return String.valueOf(f.get(1, TimeUnit.SECONDS));
        } catch (Exception e) {
            return "the inode actor does not answer a probe either (" + e + ")";
        }
    }
}
