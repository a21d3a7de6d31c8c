package dionode.node.inode;

import static dionode.protocol.LockPolicy.ZEROING_AWARE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.FileId;
import dionode.protocol.Errno;
import dionode.protocol.IoFlags;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * Unlink racing requests that are parked on the same inode (issue 10, item 8): everything queued
 * behind the unlink's exclusive lock must be answered once the file is gone, and the node keeps
 * serving.
 */
class UnlinkOrderingTest extends EngineFixture {

    @Test
    void requestsQueuedBehindAnUnlinkAnswerEnoent() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWU", model);
        gate.close();
        CompletionStage<Long> running = client.write(ino, 0, new byte[B], 0);
        gate.awaitHeld(1);
        CompletionStage<Void> unlink = client.unlink("f");
        awaitProbe(ino, s -> s.waiting() == 1);
        CompletionStage<Long> write = client.write(ino, B, new byte[B], 0);
        CompletionStage<byte[]> read = client.read(ino, 0, B, 0);
        CompletionStage<Void> truncate = client.truncate(ino, B);
        CompletionStage<Long> unaligned = client.write(ino, 3 * B + 512, new byte[512], 0);
        awaitProbe(ino, s -> s.waiting() == 5);
        gate.open();
        assertEquals(B, join(running), "the write that held the lock before the unlink finishes");
        join(unlink);
        assertEquals(Errno.ENOENT, errno(write));
        assertEquals(Errno.ENOENT, errno(read));
        assertEquals(Errno.ENOENT, errno(truncate));
        assertEquals(Errno.ENOENT, errno(unaligned));
        assertGoneAndNodeServes(ino);
    }

    @Test
    void requestsQueuedBehindAnUnlinkThatDrainsAsyncDioAnswerEnoent() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWUU", model);
        gate.close();
        // an async write gives its shared lock back at submission; the unlink takes the lock and waits
        // for that I/O in inode_dio_wait, and later requests queue behind it
        CompletionStage<Long> async = client.write(ino, 2 * B, new byte[B], IoFlags.ASYNC);
        gate.awaitHeld(1);
        awaitProbe(ino, s -> s.readers() == 0 && s.dioInFlight() == 1);
        CompletionStage<Void> unlink = client.unlink("f");
        awaitProbe(ino, s -> s.writer() && s.drainWaiters() == 1);
        CompletionStage<Long> write = client.write(ino, 0, new byte[B], 0);
        CompletionStage<Void> fallocate = client.fallocate(ino, 4 * B, B, false);
        awaitProbe(ino, s -> s.waiting() == 2);
        gate.open();
        assertEquals(B, join(async));
        join(unlink);
        assertEquals(Errno.ENOENT, errno(write));
        assertEquals(Errno.ENOENT, errno(fallocate));
        assertGoneAndNodeServes(ino);
    }

    @Test
    void anActorThatFailsAnswersEveryRequestItHeldAndTheInodeIsServedAgain() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWW", model);
        gate.close();
        CompletionStage<Long> held = client.write(ino, 0, new byte[B], 0);
        gate.awaitHeld(1);
        // a failure no handler expects escapes the actor, which restarts
        gate.failOnNextCall(new Error("injected: a failure escaping the inode actor"));
        CompletionStage<Long> failing = client.write(ino, B, new byte[B], 0);
        assertEquals(Errno.EIO, errno(held), "the stopped actor answered the request it was running");
        assertEquals(Errno.EIO, errno(failing));
        gate.open();
        assertEquals(4L * B, join(client.stat(ino)).size(), "a fresh actor serves the inode");
        byte[] blk = new byte[B];
        java.util.Arrays.fill(blk, (byte) 7);
        assertEquals(B, join(client.write(ino, 2 * B, blk, 0)));
        assertArrayEquals(blk, join(client.read(ino, 2 * B, B, 0)));
    }

    private void assertGoneAndNodeServes(FileId ino) throws Exception {
        assertEquals(Errno.ENOENT, errno(client.stat(ino)));
        assertEquals(Errno.ENOENT, errno(client.read(ino, 0, B, 0)));
        assertEquals(Errno.ENOENT, errno(client.fsync(ino)));
        assertEquals(Errno.ENOENT, errno(client.write(ino, 0, new byte[B], 0)));
        InodeCommand.LockSnapshot s = awaitProbe(ino, x -> x.pending() == 0);
        assertTrue(!s.writer() && s.readers() == 0 && s.waiting() == 0, "nothing left on the unlinked inode: " + s);
        FileId other = join(client.create("g", ZEROING_AWARE, 0644, true)).file();
        byte[] blk = new byte[B];
        java.util.Arrays.fill(blk, (byte) 3);
        assertEquals(B, join(client.write(other, 0, blk, 0)));
        assertArrayEquals(blk, join(client.read(other, 0, B, 0)));
    }
}
