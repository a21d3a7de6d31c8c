package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * Where the node answers as ext4 does beyond the seed (issue 13, "the rest of ext4's answers"):
 * an async direct read lets the shared lock go once submitted (ext4_dio_read_iter after
 * -EIOCBQUEUED); truncate to the current size frees preallocation past it (ext4_setattr); a
 * punch at or past i_size changes nothing and one reaching past it ends at the block holding
 * i_size (ext4_punch_hole); timestamps advance at the coarse clock's granularity; blocks an
 * extending write allocates at or past i_size are allocated written (ext4_iomap_alloc), their
 * partial ends zeroed as new blocks, and no conversion follows.
 */
class Ext4AnswersTest extends EngineFixture {

    @Test
    void anAsyncReadReleasesTheSharedLockOnceSubmittedAndStaysInFlight() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("r", LockPolicy.ZEROING_AWARE, "WWWW", model);
        gate.close();
        CompletionStage<byte[]> async = client.read(ino, 0, 2 * B, IoFlags.ASYNC);
        gate.awaitHeld(1);
        InodeCommand.LockSnapshot s = probe(ino);
        assertEquals(0, s.readers(), "the shared lock went at submission: " + s);
        assertEquals(1, s.dioInFlight(), "and the read still counts as direct I/O in flight: " + s);
        CompletionStage<byte[]> sync = client.read(ino, 2 * B, 2 * B, 0);
        gate.awaitHeld(2);
        assertEquals(1, probe(ino).readers(), "a sync read holds it until its data is in");
        gate.open();
        assertArrayEquals(Arrays.copyOf(model, 2 * B), join(async));
        assertArrayEquals(Arrays.copyOfRange(model, 2 * B, 4 * B), join(sync));
        awaitProbe(ino, x -> x.readers() == 0 && x.dioInFlight() == 0);
    }

    @Test
    void truncateToTheSameSizeFreesPreallocationPastIt() throws Exception {
        byte[] model = new byte[2 * B];
        FileId ino = file("t", LockPolicy.ZEROING_AWARE, "WW", model);
        join(client.fallocate(ino, 2 * B, 4 * B, true));
        Reply.FileStat before = join(client.stat(ino));
        assertEquals(6, before.blocks(), "two written blocks and four preallocated past the end");
        long free = stats().get("free_blocks");
        join(client.truncate(ino, 2 * B));
        Reply.FileStat after = join(client.stat(ino));
        assertEquals(2 * B, after.size());
        assertEquals(2, after.blocks());
        assertEquals(free + 4, dionode.node.server.TestNodes.settle(() -> stats().get("free_blocks")));
        assertContent(ino, model, 2 * B);
    }

    @Test
    void aPunchAtOrPastTheEndChangesNothingAndOneReachingPastItStopsAtItsLastBlock() throws Exception {
        byte[] model = new byte[3 * B];
        FileId ino = file("p", LockPolicy.ZEROING_AWARE, "WWW", model);
        join(client.truncate(ino, 2 * B + 2048));
        join(client.fallocate(ino, 3 * B, 4 * B, true));
        Reply.FileStat st0 = join(client.stat(ino));
        List<Reply.FiemapExtent> map0 = fiemap(ino);
        Thread.sleep(20);

        join(client.punchHole(ino, 3 * B, 2 * B));
        join(client.punchHole(ino, 2 * B + 2048, B));
        Reply.FileStat st1 = join(client.stat(ino));
        assertEquals(map0, fiemap(ino), "a punch at or past i_size frees nothing");
        assertEquals(st0.mtimeNanos(), st1.mtimeNanos(), "and changes no timestamp");
        assertEquals(st0.blocks(), st1.blocks());

        join(client.punchHole(ino, B, 10 * B));
        Reply.FileStat st2 = join(client.stat(ino));
        assertEquals(1 + 4, st2.blocks(), "blocks 1 and 2 (the one holding i_size) punched, the preallocation past it kept");
        Arrays.fill(model, B, model.length, (byte) 0);
        assertContent(ino, model, 2 * B + 2048);
        List<Reply.FiemapExtent> map2 = fiemap(ino);
        assertEquals(3L * B, map2.get(map2.size() - 1).logical(), "the preallocated extent still starts at block 3: " + map2);
    }

    @Test
    void anAppendAllocatesWrittenBlocksAndConvertsNothing() {
        byte[] model = new byte[4 * B];
        FileId ino = file("a", LockPolicy.ZEROING_AWARE, "W.", model);
        join(client.truncate(ino, B));
        var before = stats();
        byte[] data = new byte[B + B / 2];
        Arrays.fill(data, (byte) 0x77);
        join(client.write(ino, 2 * B, data, 0));
        var after = stats();
        assertEquals(0, after.get("converted_blocks") - before.get("converted_blocks"), "nothing to convert after an append");
        assertEquals(2, after.get("allocated_blocks") - before.get("allocated_blocks"));
        assertEquals(1, after.get("zeroed_blocks") - before.get("zeroed_blocks"), "the new tail block's rest is zeroed");
        List<Reply.FiemapExtent> map = fiemap(ino);
        Reply.FiemapExtent appended = map.get(map.size() - 1);
        assertEquals(2L * B, appended.logical(), "" + map);
        assertEquals(2L * B, appended.length());
        assertEquals(0, appended.flags() & Reply.FiemapExtent.UNWRITTEN, "allocated written: " + map);
        System.arraycopy(data, 0, model, 2 * B, data.length);
        Arrays.fill(model, B, 2 * B, (byte) 0);
        join(client.truncate(ino, 4 * B));
        assertContent(ino, model, 4 * B);
    }

    @Test
    void timestampsAdvanceAtTheCoarseClocksGranularity() throws Exception {
        byte[] model = new byte[2 * B];
        FileId ino = file("m", LockPolicy.ZEROING_AWARE, "WW", model);
        long first = join(client.stat(ino)).mtimeNanos();
        Thread.sleep(20);
        join(client.write(ino, 0, new byte[B], 0));
        long second = join(client.stat(ino)).mtimeNanos();
        assertTrue(second > first, "an overwrite 20 ms later moved mtime: " + first + " -> " + second);
    }
}
