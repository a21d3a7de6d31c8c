package dionode.node.inode;

import static dionode.node.crash.Fixture.errno;
import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.FaultyNativeIO;
import dionode.node.device.JnaNativeIO;
import dionode.node.device.NativeIOException;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.Errno;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * A write whose data reached the device but whose conversion to written failed must stop counting
 * as direct I/O in flight (issue 10, item 10: after a failed conversion, unlink of that file never
 * answered, waiting in inode_dio_wait for an I/O that had long finished).
 */
class FailedConversionTest {
    private static final int B = 4096;

    @Test
    void aWriteWhoseConversionFailsLeavesNoDirectIoInFlight() throws Exception {
        Path device = TestNodes.newDevicePath();
        FaultyNativeIO io = new FaultyNativeIO(new JnaNativeIO());
        GatedDataPath[] gate = new GatedDataPath[1];
        try (NodeServer node = TestNodes.start(TestNodes.config(device, 16 << 20, LockPolicy.ZEROING_AWARE), io,
                real -> gate[0] = new GatedDataPath(real));
                NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
            FileId ino = join(c.create("f", null, 0644, true)).file();
            join(c.fallocate(ino, 0, 4 * B, false));
            FileId other = join(c.create("g", null, 0644, true)).file();
            join(c.fsync(ino));
            gate[0].close();
            CompletionStage<Long> w = c.write(ino, B, new byte[B], 0);
            gate[0].awaitHeld(1);
            // the journal fails while the write's data is on its way: its conversion cannot start a handle
            long from = node.volume().layout().journalStart() * B;
            io.failWritesOverlapping(from, from + node.volume().layout().journalBlocks() * B, NativeIOException.EIO);
            join(c.chmod(other, 0600));
            assertTrue(errno(c.fsync(other)) != null, "the commit failed");
            assertTrue(node.volume().journal().isAborted());
            gate[0].open();
            assertEquals(Errno.EROFS, errno(w));
            assertEquals(0, probe(node, ino).dioInFlight(), "the failed write's I/O is no longer in flight");
            assertEquals(Errno.EROFS, errno(c.truncate(ino, 0)), "truncate drains direct I/O and answers");
            assertEquals(Errno.EROFS, errno(c.unlink("f")), "unlink drains direct I/O and answers");
            assertEquals(4L * B, join(c.stat(ino)).size());
        } finally {
            Files.deleteIfExists(device);
        }
    }

    private static InodeCommand.LockSnapshot probe(NodeServer node, FileId file) {
        CompletableFuture<InodeCommand.LockSnapshot> f = new CompletableFuture<>();
        node.region().tell(new InodeRegion.Forward(file.ino(), new InodeCommand.Probe(f)));
        return join(f);
    }
}
