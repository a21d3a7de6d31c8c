package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import java.util.Arrays;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * Orderings the page cache must survive (DESIGN §4), each held at the device by the gate: a
 * buffered read racing a punch or truncate must not cache what they remove, and a restarted actor
 * keeps the i_size its buffered writes grew.
 */
class PageCacheOrderingTest extends EngineFixture {
    private static final int BUF = IoFlags.BUFFERED;

    @Test
    void aBufferedReadDuringAPunchDoesNotCacheTheBytesThePunchRemoves() throws Exception {
        byte[] model = new byte[4 * B];
        FileId f = file("f", LockPolicy.ZEROING_AWARE, "WWWW", model);
        gate.close();
        // punch [B+100, 3B): zeroes the tail of block 1 (read + write), then removes block 2
        CompletionStage<Void> punch = client.punchHole(f, B + 100, 2L * B - 100);
        gate.awaitHeld(1);
        CompletionStage<byte[]> read = client.read(f, 2L * B, B, BUF);
        gate.awaitHeld(2);
        gate.releaseOne(); // the punch's read of block 1; its write is held next
        gate.awaitHeld(2);
        gate.releaseOne(); // the buffered read of block 2: fills page 2 while the punch is under way
        join(read);
        gate.open();
        join(punch);
        byte[] zeros = new byte[B];
        assertArrayEquals(zeros, join(client.read(f, 2L * B, B, 0)), "the device: punched");
        assertArrayEquals(zeros, join(client.read(f, 2L * B, B, BUF)), "the page cache agrees with the device");
    }

    @Test
    void aBufferedReadDuringATruncateCachesNothingPastTheNewEndThatAGrowWouldShow() throws Exception {
        byte[] model = new byte[4 * B];
        FileId f = file("f", LockPolicy.ZEROING_AWARE, "WWWW", model);
        gate.close();
        CompletionStage<Void> truncate = client.truncate(f, B + 100);
        gate.awaitHeld(1); // zeroPartial's read of block 1, after pages().truncate, before i_size moves
        CompletionStage<byte[]> read = client.read(f, 3L * B, B, BUF);
        gate.awaitHeld(2);
        gate.releaseOne();
        gate.awaitHeld(2);
        gate.releaseOne(); // the buffered read of block 3 fills page 3 with i_size still 4B
        join(read);
        gate.open();
        join(truncate);
        join(client.truncate(f, 4L * B));
        byte[] zeros = new byte[B];
        assertArrayEquals(zeros, join(client.read(f, 3L * B, B, 0)), "the device: zeros past the old end");
        assertArrayEquals(zeros, join(client.read(f, 3L * B, B, BUF)), "the page cache agrees with the device");
    }

    @Test
    void aRestartedActorKeepsTheSizeItsBufferedWritesGrew() throws Exception {
        byte[] model = new byte[B];
        FileId f = file("f", LockPolicy.ZEROING_AWARE, "W", model);
        byte[] data = new byte[5000];
        Arrays.fill(data, (byte) 0x5a);
        assertEquals(5000L, join(client.write(f, B, data, BUF)));
        assertEquals(B + 5000L, join(client.stat(f)).size());
        // a failure no handler expects escapes the inode actor, which restarts (its dirty pages stay)
        gate.failOnNextCall(new Error("injected: a failure escaping the inode actor"));
        errno(client.read(f, 0, B, 0));
        assertEquals(B + 5000L, join(client.stat(f)).size(), "i_size after the restart");
        assertArrayEquals(data, join(client.read(f, B, 5000, BUF)), "the acknowledged buffered bytes");
    }
}
