package dionode.node.nbd;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.node.crash.Fixture;
import dionode.node.server.Binding;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An NBD export opened before its file was unlinked never writes into the file that reused the number. */
class NbdStaleExportTest {

    @Test
    void anExportOfAnUnlinkedFileAnswersEioAndLeavesTheNewFileAlone() throws Exception {
        Path device = TestNodes.newDevicePath();
        NodeServer node = NodeServer.start(TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withInodes(16)
                .withTimes(Duration.ofMillis(200), Duration.ofMillis(50)), Fixture.JNA);
        Binding binding = NbdServer.bind(node.system(), node.dispatcher(), node.volume().device().sectorSize(),
                "127.0.0.1", 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
        try (NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            FileId disk = join(c.create("disk", null, 0644, true)).file();
            join(c.truncate(disk, 1 << 20));
            try (TestNbdClient nbd = TestNbdClient.transmission(binding.localAddress().getPort(), "disk")) {
                byte[] before = new byte[4096];
                Arrays.fill(before, (byte) 1);
                assertEquals(0, nbd.call(0, Nbd.CMD_WRITE, 0, before.length, before).error());
                join(c.unlink("disk"));
                FileId other = TestNodes.createAt(c, disk.ino(), "other");
                byte[] mine = new byte[8192];
                Arrays.fill(mine, (byte) 0x42);
                join(c.write(other, 0, mine, 0));

                byte[] late = new byte[4096];
                Arrays.fill(late, (byte) 0xee);
                assertEquals(Nbd.EIO, nbd.call(0, Nbd.CMD_WRITE, 0, late.length, late).error());
                assertEquals(Nbd.EIO, nbd.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 4096, late.length, late).error());
                assertEquals(Nbd.EIO, nbd.call(0, Nbd.CMD_TRIM, 0, 8192, null).error());
                assertEquals(Nbd.EIO, nbd.call(0, Nbd.CMD_WRITE_ZEROES, 0, 8192, null).error());
                assertEquals(Nbd.EIO, nbd.call(0, Nbd.CMD_READ, 0, 4096, null).error());
                assertEquals(Nbd.EIO, nbd.call(0, Nbd.CMD_FLUSH, 0, 0, null).error());
                assertArrayEquals(mine, join(c.read(other, 0, 1 << 20, 0)));
            }
        } finally {
            binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
            node.close();
            Files.deleteIfExists(device);
        }
    }
}
