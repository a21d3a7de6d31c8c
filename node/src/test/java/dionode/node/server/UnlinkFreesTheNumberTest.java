package dionode.node.server;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An unlink gives the inode number back when it answers (ext4_free_inode), not when the inode's
 * actor is passivated later: a full table of create+unlink pairs leaves room for the next create
 * at once, and {@code files} counts files. The idle timeout is long, so no actor stops during the
 * test. Both cases were found by {@code loadgen soak}.
 */
class UnlinkFreesTheNumberTest {
    private static final int INODES = 16;
    private Path device;
    private NodeServer node;
    private NodeClient client;

    @BeforeEach
    void start() throws Exception {
        device = TestNodes.newDevicePath();
        NodeConfig config = TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withInodes(INODES)
                .withTimes(Duration.ofMillis(200), Duration.ofSeconds(60));
        node = NodeServer.start(config, Fixture.JNA);
        client = NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        node.close();
        Files.deleteIfExists(device);
    }

    @Test
    void createsAfterUnlinksFindTheirNumbersAtOnce() {
        for (int round = 0; round < 3 * INODES; round++) {
            FileId file = join(client.create("f" + round, null, 0644, true)).file();
            join(client.write(file, 0, new byte[4096], 0));
            join(client.unlink("f" + round));
        }
        for (int k = 0; k < INODES; k++) {
            join(client.create("g" + k, null, 0644, true));
        }
        assertEquals((long) INODES, join(client.stats()).get("files"), "every number is a file, none is held by an unlinked one");
        assertEquals(INODES, join(client.list()).size());
        Reply full = join(client.send(new Request.Create("one-too-many", null, 0644, true)));
        assertTrue(full instanceof Reply.Error e && e.errno() == Errno.ENOSPC, full::toString);
    }

    @Test
    void aFileAtANumberFirstAskedForWhenItWasFreeCanBeUnlinked() {
        FileId first = join(client.create("first", null, 0644, true)).file();
        FileId free = new FileId(first.ino() + 1, 1);
        Reply before = join(client.send(new Request.Stat(free)));
        assertTrue(before instanceof Reply.Error e && e.errno() == Errno.ENOENT, before::toString);
        FileId second = join(client.create("second", null, 0644, true)).file();
        assertEquals(free.ino(), second.ino(), "the next create takes the number asked for before");
        join(client.unlink("second"));
        Reply after = join(client.send(new Request.Lookup("second")));
        assertTrue(after instanceof Reply.Error e && e.errno() == Errno.ENOENT, after::toString);
        assertArrayEquals(new byte[0], join(client.read(first, 0, 4096, 0)), "the other file is untouched");
    }
}
