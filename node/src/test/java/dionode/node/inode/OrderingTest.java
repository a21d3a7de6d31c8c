package dionode.node.inode;

import static dionode.protocol.LockPolicy.ZEROING_AWARE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** Deterministic interleavings: I/O is held at the gate while other requests arrive. */
class OrderingTest extends EngineFixture {

    @Test
    void exclusiveWaiterIsNotStarvedBySharedWriters() throws Exception {
        byte[] model = new byte[16 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWWWWWWWWWWWWWW", model);
        gate.close();
        CompletionStage<Long> s1 = client.write(ino, 0, new byte[B], 0);
        CompletionStage<Long> s2 = client.write(ino, B, new byte[B], 0);
        gate.awaitHeld(2);
        assertEquals(2, probe(ino).readers());
        CompletionStage<Void> truncate = client.truncate(ino, 32 * B);
        awaitProbe(ino, s -> s.waiting() == 1);
        List<CompletableFuture<Long>> later = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            later.add(client.write(ino, (2 + i) * B, new byte[B], 0).toCompletableFuture());
        }
        InodeCommand.LockSnapshot s = awaitProbe(ino, x -> x.waiting() == 6);
        assertEquals(2, s.readers(), "later shared writers queue behind the exclusive waiter: " + s);
        assertEquals(2, gate.heldCount());
        gate.releaseOne();
        gate.releaseOne();
        join(s1);
        join(s2);
        join(truncate);
        // truncate ran first; the five shared writers now hold the lock together, their I/O at the gate
        gate.awaitHeld(5);
        assertEquals(5, probe(ino).readers());
        assertTrue(later.stream().noneMatch(CompletableFuture::isDone));
        assertEquals(32 * B, join(client.stat(ino)).size());
        gate.open();
        later.forEach(EngineFixture::join);
    }

    @Test
    void aDrainWaiterThatFailsFailsItselfNotTheWriteWhoseCompletionWokeIt() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWUU", model);
        gate.close();
        CompletionStage<Long> w1 = client.write(ino, 0, new byte[B], IoFlags.ASYNC);
        gate.awaitHeld(1);
        awaitProbe(ino, s -> s.readers() == 0 && s.dioInFlight() == 1);
        // unaligned into an unwritten block: exclusive, and it must drain w1 first (inode_dio_wait)
        CompletionStage<Long> w2 = client.write(ino, 2 * B + 512, new byte[512], 0);
        awaitProbe(ino, s -> s.writer() && s.drainWaiters() == 1);
        gate.throwOnNextCall(new IllegalStateException("injected: submitting the I/O threw"));
        gate.releaseOne();
        assertEquals(B, join(w1));
        assertEquals(Errno.EIO, errno(w2));
        InodeCommand.LockSnapshot s = awaitProbe(ino, x -> !x.writer() && x.readers() == 0);
        assertEquals(0, s.dioInFlight(), "the failed submission ended its direct I/O");
        gate.open();
        join(client.truncate(ino, 3 * B));
        assertEquals(3 * B, join(client.stat(ino)).size());
        assertEquals(1, join(client.write(ino, 2 * B + 512, new byte[512], 0)) / 512);
    }

    @Test
    void truncateWaitsForInFlightAsyncDio() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWW", model);
        gate.close();
        CompletionStage<Long> w = client.write(ino, B, new byte[B], IoFlags.ASYNC);
        gate.awaitHeld(1);
        awaitProbe(ino, s -> s.readers() == 0 && s.dioInFlight() == 1);
        long drains = stats().get("dio_drains");
        CompletionStage<Void> t = client.truncate(ino, 0);
        InodeCommand.LockSnapshot s = awaitProbe(ino, x -> x.drainWaiters() == 1);
        assertTrue(s.writer(), "truncate holds the exclusive lock while it waits in inode_dio_wait");
        assertFalse(t.toCompletableFuture().isDone());
        assertEquals(drains + 1, stats().get("dio_drains"));
        gate.open();
        join(w);
        join(t);
        assertEquals(0, join(client.stat(ino)).size());
        assertEquals(List.of(), fiemap(ino));
    }

    @Test
    void punchWaitsForInFlightAsyncDioAndLeavesAHole() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWW", model);
        gate.close();
        CompletionStage<Long> w = client.write(ino, 2 * B, new byte[B], IoFlags.ASYNC);
        gate.awaitHeld(1);
        CompletionStage<Void> p = client.punchHole(ino, B, 2 * B);
        awaitProbe(ino, x -> x.drainWaiters() == 1);
        assertFalse(p.toCompletableFuture().isDone());
        gate.open();
        join(w);
        join(p);
        java.util.Arrays.fill(model, B, 3 * B, (byte) 0);
        assertContent(ino, model, 4 * B);
        List<Reply.FiemapExtent> map = fiemap(ino);
        assertEquals(2, map.size(), map.toString());
        assertEquals(0, map.get(0).logical());
        assertEquals(3L * B, map.get(1).logical());
    }

    @Test
    void unalignedZeroingWriteDrainsSharedAsyncWrites() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWUW", model);
        gate.close();
        CompletionStage<Long> shared = client.write(ino, 0, new byte[B], IoFlags.ASYNC);
        gate.awaitHeld(1);
        // head partial block 2 is unwritten: exclusive, and inode_dio_wait before its I/O
        CompletionStage<Long> zeroing = client.write(ino, 2 * B + 512, new byte[1024], 0);
        InodeCommand.LockSnapshot s = awaitProbe(ino, x -> x.drainWaiters() == 1);
        assertTrue(s.writer());
        assertEquals(1, gate.heldCount(), "the zeroing write has not issued I/O yet");
        gate.releaseOne();
        join(shared);
        gate.awaitHeld(1);
        gate.open();
        join(zeroing);
        java.util.Arrays.fill(model, 0, B, (byte) 0);
        assertContent(ino, model, 4 * B);
    }

    @Test
    void nowaitIsEagainWhileTheSharedLockIsUnavailable() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWW", model);
        gate.close();
        CompletionStage<Long> extending = client.write(ino, 4 * B, new byte[B], 0);
        gate.awaitHeld(1);
        assertTrue(probe(ino).writer());
        assertEquals(Errno.EAGAIN, errno(client.write(ino, 0, new byte[B], IoFlags.NOWAIT)));
        assertEquals(Errno.EAGAIN, errno(client.read(ino, 0, B, IoFlags.NOWAIT)));
        gate.open();
        join(extending);
        assertEquals(B, join(client.write(ino, 0, new byte[B], IoFlags.NOWAIT)));
    }

    @Test
    void sharedWriterThatFindsItNeedsExclusiveRestartsBehindTheQueue() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWW", model);
        gate.close();
        // an extending write holds the lock exclusively; a shared overwrite waits
        CompletionStage<Long> ext = client.write(ino, 4 * B, new byte[B], 0);
        gate.awaitHeld(1);
        CompletionStage<Void> chmod = client.chmod(ino, 04755);
        CompletionStage<Long> w = client.write(ino, 0, new byte[B], 0);
        awaitProbe(ino, x -> x.waiting() == 2);
        gate.open();
        join(ext);
        join(chmod);
        // decided shared, but after chmod the file is setuid: ext4's restart takes the lock exclusively
        assertEquals(B, join(w));
        assertEquals(0755, join(client.stat(ino)).mode());
    }
}
