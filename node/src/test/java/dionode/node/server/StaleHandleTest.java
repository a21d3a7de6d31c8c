package dionode.node.server;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A handle kept from before an unlink must not reach the file that reused its inode number: every
 * request through it answers ESTALE and changes nothing, also after a restart. A table of 16
 * inodes and a 50 ms idle timeout make the number come back quickly.
 */
class StaleHandleTest {
    private static final int B = 4096;
    private Path device;
    private NodeServer node;
    private NodeClient c;

    private NodeConfig config() {
        return TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withInodes(16)
                .withTimes(Duration.ofMillis(200), Duration.ofMillis(50));
    }

    @BeforeEach
    void start() throws Exception {
        device = TestNodes.newDevicePath();
        node = NodeServer.start(config(), Fixture.JNA);
        c = NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    private void restart() throws IOException {
        c.close();
        node.close();
        node = NodeServer.start(config(), Fixture.JNA);
        c = NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    @AfterEach
    void stop() throws Exception {
        c.close();
        node.close();
        Files.deleteIfExists(device);
    }

    private static byte[] fill(int len, int value) {
        byte[] b = new byte[len];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** Every inode request through {@code stale}: each must be ESTALE. */
    private void everyRequestIsStale(FileId stale) {
        List<Request> all = List.of(new Request.Write(stale, 0, fill(B, 0x5f), 0),
                new Request.Write(stale, 512, fill(512, 0x5f), IoFlags.BUFFERED | IoFlags.DURABLE),
                new Request.Write(stale, 64 * B, fill(B, 0x5f), 0), new Request.Read(stale, 0, B, 0),
                new Request.Stat(stale), new Request.Fsync(stale), new Request.Truncate(stale, 0),
                new Request.Fallocate(stale, 0, 16 * B, false), new Request.PunchHole(stale, 0, B),
                new Request.ZeroRange(stale, 0, B, false), new Request.Fiemap(stale, 0, 0), new Request.Chmod(stale, 04777));
        for (Request r : all) {
            Reply reply = join(c.send(r));
            assertTrue(reply instanceof Reply.Error e && e.errno() == Errno.ESTALE, r + " answered " + reply);
        }
    }

    @Test
    void writesThroughAnUnlinkedFilesHandleNeverReachTheFileThatReusedItsNumber() throws Exception {
        FileId f = join(c.create("f", null, 0644, true)).file();
        join(c.write(f, 0, fill(B, 0xf0), 0));
        join(c.unlink("f"));
        FileId g = TestNodes.createAt(c, f.ino(), "g");
        assertTrue(g.generation() != f.generation(), f + " and " + g);
        byte[] gData = fill(2 * B, 0x99);
        join(c.write(g, 0, gData, 0));
        Reply.FileStat gStat = join(c.stat(g));
        List<Reply.FiemapExtent> gMap = c.fiemapAll(g);

        everyRequestIsStale(f);
        assertArrayEquals(gData, join(c.read(g, 0, 4 * B, 0)), "g's bytes and size unchanged");
        assertEquals(gStat.servedBy(""), join(c.stat(g)).servedBy("")); // the node's port changes across the restart
        assertEquals(gMap, c.fiemapAll(g));

        restart();
        assertEquals(g, join(c.lookup("g")).file(), "the generation survives a restart");
        everyRequestIsStale(f);
        assertArrayEquals(gData, join(c.read(g, 0, 4 * B, 0)));
        assertEquals(gStat.servedBy(""), join(c.stat(g)).servedBy("")); // the node's port changes across the restart
    }

    @Test
    void theFreedSlotKeepsItsGenerationSoEveryReuseGetsANewOne() throws Exception {
        FileId f = join(c.create("f", null, 0644, true)).file();
        join(c.write(f, 0, fill(B, 0xf0), IoFlags.DURABLE));
        join(c.unlink("f"));
        restart(); // the number is free again at once, and the next create takes the lowest free one
        FileId g = join(c.create("g", null, 0644, true)).file();
        assertEquals(f.ino(), g.ino());
        assertEquals(f.generation() + 1, g.generation(), "one more than the generation the freed slot kept");
        everyRequestIsStale(f);
        assertEquals(0, join(c.stat(g)).size());
        join(c.unlink("g"));
        restart();
        FileId h = join(c.create("h", null, 0644, true)).file();
        assertEquals(new FileId(f.ino(), g.generation() + 1, f.volume()), h);
        everyRequestIsStale(f);
        everyRequestIsStale(g);
        assertEquals(0, join(c.stat(h)).size());
        c.close();
        node.close();
        assertEquals(List.of(), Fixture.fsck(device), "a free slot that keeps a generation is no corruption");
    }

    @Test
    void aHandleOfAnotherVolumeNeverReachesThisNodesFileOfTheSameNumber() throws Exception {
        FileId f = join(c.create("f", null, 0644, true)).file();
        byte[] data = fill(B, 0x21);
        join(c.write(f, 0, data, 0));
        assertTrue(f.volume() != 0, "a node tags its handles with its volume: " + f);
        // the same inode and generation, as another node of a cluster would give it out
        everyRequestIsStale(f.onVolume(f.volume() ^ 0x5a5a));
        assertArrayEquals(data, join(c.read(f, 0, B, 0)));
        assertArrayEquals(data, join(c.read(new FileId(f.ino(), f.generation()), 0, B, 0)), "volume 0 is this node's own");

        String own = join(c.stat(f)).volume();
        Reply wrong = join(c.send(new Request.Create("g", null, 0644, true, false, false, "00000000-0000-4000-8000-000000000001")));
        assertTrue(wrong instanceof Reply.Error e && e.errno() == Errno.EINVAL && e.message().contains(own), wrong::toString);
        Reply right = join(c.send(new Request.Create("g", null, 0644, true, false, false, own)));
        assertTrue(right instanceof Reply.InodeInfo, right::toString);
    }
}
