package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.node.device.JnaNativeIO;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A real node on an O_DIRECT device file, with a gate on its data path, and a client. */
abstract class EngineFixture {
    static final int B = 4096;

    Path device;
    NodeServer node;
    GatedDataPath gate;
    NodeClient client;

    @BeforeEach
    void startNode() throws Exception {
        device = TestNodes.newDevicePath();
        node = TestNodes.start(TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE), new JnaNativeIO(), real -> {
            gate = new GatedDataPath(real);
            return gate;
        });
        client = NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    @AfterEach
    void stopNode() throws Exception {
        if (gate != null) {
            gate.open();
        }
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    static <T> T join(CompletionStage<T> s) {
        return s.toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).join();
    }

    static Errno errno(CompletionStage<?> s) {
        try {
            join(s);
            return null;
        } catch (CompletionException e) {
            if (e.getCause() instanceof NodeException n) {
                return n.errno();
            }
            throw e;
        }
    }

    InodeCommand.LockSnapshot probe(FileId file) {
        CompletableFuture<InodeCommand.LockSnapshot> f = new CompletableFuture<>();
        node.region().tell(new InodeRegion.Forward(file.ino(), new InodeCommand.Probe(f)));
        return join(f);
    }

    /** Polls the inode until {@code check} holds (the actor works asynchronously to the test). */
    InodeCommand.LockSnapshot awaitProbe(FileId ino, java.util.function.Predicate<InodeCommand.LockSnapshot> check)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            InodeCommand.LockSnapshot s = probe(ino);
            if (check.test(s)) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("inode state never matched: " + s);
            }
            Thread.sleep(2);
        }
    }

    Map<String, Long> stats() {
        return join(client.stats());
    }

    /** A file whose blocks follow {@code layout}: W written (block i filled with 0x10+i), U unwritten, '.' hole. */
    FileId file(String name, LockPolicy policy, String layout, byte[] model) {
        FileId ino = join(client.create(name, policy, 0644, true)).file();
        join(client.truncate(ino, (long) layout.length() * B));
        for (int i = 0; i < layout.length(); i++) {
            char c = layout.charAt(i);
            if (c == 'U') {
                join(client.fallocate(ino, (long) i * B, B, true));
            } else if (c == 'W') {
                byte[] blk = new byte[B];
                Arrays.fill(blk, (byte) (0x10 + i));
                join(client.write(ino, (long) i * B, blk, 0));
                System.arraycopy(blk, 0, model, i * B, B);
            }
        }
        return ino;
    }

    void assertContent(FileId ino, byte[] model, long size) {
        byte[] got = join(client.read(ino, 0, (int) size, 0));
        assertEquals(size, got.length);
        assertArrayEquals(Arrays.copyOf(model, (int) size), got);
    }

    List<Reply.FiemapExtent> fiemap(FileId ino) {
        return join(client.fiemap(ino, 0, 0));
    }
}
