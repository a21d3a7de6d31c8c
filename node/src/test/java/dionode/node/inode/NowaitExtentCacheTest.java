package dionode.node.inode;

import static dionode.node.crash.Fixture.B;
import static dionode.node.crash.Fixture.errno;
import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.node.crash.RawImage;
import dionode.node.extent.ExtentFormat;
import dionode.node.fs.ExtentCache;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.Layout;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 13's "done when" for the extent cache (DESIGN §3, patches 6-8): after a restart no extent
 * block is in memory, so NOWAIT reads and writes over a file's extents answer EAGAIN with nothing
 * changed until a blocking request has read them; a cache past its bound answers EAGAIN exactly
 * for the files it dropped; an extent a crafted image put into a cached block is refused
 * EFSCORRUPTED when a lookup hits it, NOWAIT or not.
 */
@Timeout(120)
class NowaitExtentCacheTest {
    private static final long SIZE = 64 * Fixture.MIB;
    private Path device;

    @AfterEach
    void remove() {
        Fixture.deleteQuietly(device);
    }

    private static NodeServer start(Path device, long esCache, java.util.function.Function<DataPath, DataPath> wrap)
            throws Exception {
        NodeConfig config = Fixture.config(device, SIZE, Duration.ofMillis(200)).withEsCache(esCache);
        return Fixture.start(config, Fixture.JNA, wrap);
    }

    private static NodeServer start(Path device, long esCache) throws Exception {
        return start(device, esCache, data -> data);
    }

    /** Block {@code i} of file {@code tag}'s pattern. */
    private static byte[] block(int tag, int i) {
        byte[] b = new byte[B];
        Arrays.fill(b, (byte) (tag * 31 + i));
        return b;
    }

    /**
     * A file of {@code extents} one-block extents at every other block (holes between, so none
     * merge): more than the inline root holds, so its tree has extent blocks. Returns its model.
     */
    private static byte[] manyExtents(NodeClient c, String name, int tag, int extents) {
        FileId f = join(c.create(name, null, 0644, true)).file();
        byte[] model = new byte[(2 * extents - 1) * B];
        for (int i = 0; i < extents; i++) {
            byte[] b = block(tag, i);
            join(c.write(f, 2L * i * B, b, 0));
            System.arraycopy(b, 0, model, 2 * i * B, B);
        }
        return model;
    }

    private static FileId file(NodeClient c, String name) {
        return join(c.lookup(name)).file();
    }

    private static long delta(Map<String, Long> after, Map<String, Long> before, String counter) {
        return after.get(counter) - before.get(counter);
    }

    @Test
    void aColdCacheRefusesNowaitUntilABlockingRequestHasReadTheExtents() throws Exception {
        device = Fixture.newDevice("nowait-cold");
        int extents = 345;
        byte[] model;
        Reply.FileStat before;
        try (NodeServer node = start(device, 64L << 20); NodeClient c = Fixture.client(node)) {
            model = manyExtents(c, "many", 1, extents);
            manyExtents(c, "partly", 2, extents);
            before = join(c.stat(file(c, "many")));
            assertTrue(before.layout().extents() == extents && before.blocks() > extents, "a tree with extent blocks: " + before);
        }
        try (NodeServer node = start(device, 64L << 20); NodeClient c = Fixture.client(node)) {
            FileId f = file(c, "many");
            Map<String, Long> s0 = join(c.stats());
            assertEquals(0, s0.get("meta_reads"), "mount reads no extent block");
            assertEquals(0, s0.get("es_cached"));
            long tail = 2L * 342 * B;
            byte[] patch = new byte[512];
            Arrays.fill(patch, (byte) 0x5A);

            assertEquals(Errno.EAGAIN, errno(c.read(f, tail, B, IoFlags.NOWAIT)), "NOWAIT read over uncached extents");
            assertEquals(Errno.EAGAIN, errno(c.write(f, tail + 512, patch, IoFlags.NOWAIT)),
                    "NOWAIT unaligned write: a miss in the zeroing check needs zeroing (patch 8)");
            assertEquals(Errno.EAGAIN, errno(c.write(f, 2L * 10 * B, block(9, 9), IoFlags.NOWAIT)),
                    "NOWAIT aligned write: a miss in the mapping (patch 7)");
            Map<String, Long> s1 = join(c.stats());
            assertEquals(3, delta(s1, s0, "eagain_cache"));
            assertEquals(3, delta(s1, s0, "eagain"));
            assertEquals(0, delta(s1, s0, "eagain_lock") + delta(s1, s0, "eagain_alloc") + delta(s1, s0, "eagain_journal"));
            assertTrue(delta(s1, s0, "es_misses") >= 3, "misses counted: " + s1);
            assertEquals(0, s1.get("meta_reads"), "a NOWAIT miss reads nothing");
            assertEquals(0, delta(s1, s0, "writes") + delta(s1, s0, "reads"), "nothing was done");

            // nothing changed: the same bytes, size and times as before the restart (reading them is blocking)
            assertArrayEquals(model, Fixture.read(c, f, 0, model.length));
            Reply.FileStat now = join(c.stat(f));
            assertEquals(before.size(), now.size());
            assertEquals(before.mtimeNanos(), now.mtimeNanos());
            assertEquals(before.ctimeNanos(), now.ctimeNanos());
            assertEquals(before.layout(), now.layout());
            Map<String, Long> s2 = join(c.stats());
            assertTrue(s2.get("meta_reads") >= 2, "the blocking requests read the extent blocks: " + s2);
            assertEquals(extents, s2.get("es_cached"));

            // now cached: the same NOWAIT requests succeed
            assertArrayEquals(Arrays.copyOfRange(model, (int) tail, (int) tail + B), join(c.read(f, tail, B, IoFlags.NOWAIT)));
            assertEquals(512, join(c.write(f, tail + 512, patch, IoFlags.NOWAIT)).longValue());
            System.arraycopy(patch, 0, model, (int) tail + 512, 512);
            assertArrayEquals(model, Fixture.read(c, f, 0, model.length));
            Map<String, Long> s3 = join(c.stats());
            assertEquals(0, delta(s3, s2, "eagain"));
            assertTrue(delta(s3, s2, "es_hits") > 0);
            assertEquals(0, delta(s3, s2, "meta_reads"), "served from memory");

            // a NOWAIT write whose timestamps are due logs them without the rest of the tree in memory
            FileId partly = file(c, "partly");
            assertArrayEquals(block(2, 342), join(c.read(partly, tail, B, 0)));
            Thread.sleep(50);
            Map<String, Long> s4 = join(c.stats());
            assertEquals(B, join(c.write(partly, tail, block(7, 7), IoFlags.NOWAIT)).longValue());
            assertEquals(Errno.EAGAIN, errno(c.read(partly, 0, B, IoFlags.NOWAIT)), "its first leaf is still not in memory");
            Map<String, Long> s5 = join(c.stats());
            assertEquals(0, delta(s5, s4, "meta_reads"));
            assertEquals(1, delta(s5, s4, "eagain_cache"));
            Reply.FileStat partlyStat = join(c.stat(partly));
            assertTrue(partlyStat.mtimeNanos() > before.mtimeNanos(), "the NOWAIT write logged its timestamps");
            assertArrayEquals(block(7, 7), join(c.read(partly, tail, B, IoFlags.NOWAIT)));
        }
        assertEquals(List.of(), Fixture.fsck(device));
    }

    @Test
    void aCachePastItsBoundRefusesNowaitExactlyForTheFilesItDropped() throws Exception {
        device = Fixture.newDevice("nowait-bound");
        int files = 20;
        int extents = 6;
        byte[][] models = new byte[files][];
        try (NodeServer node = start(device, 64L << 20); NodeClient c = Fixture.client(node)) {
            for (int k = 0; k < files; k++) {
                models[k] = manyExtents(c, "f" + k, k, extents);
            }
        }
        // 64K holds 15 extent blocks; each file has one
        try (NodeServer node = start(device, ExtentCache.MIN_BYTES); NodeClient c = Fixture.client(node)) {
            for (int k = 0; k < files; k++) {
                assertArrayEquals(models[k], Fixture.read(c, file(c, "f" + k), 0, models[k].length));
            }
            Map<String, Long> loaded = join(c.stats());
            assertEquals(files, loaded.get("meta_reads"));
            assertEquals(5 * extents, loaded.get("es_shrunk"), "the 5 files read first were dropped, whole");
            assertEquals(15 * extents, loaded.get("es_cached"));
            for (int k = 0; k < files; k++) {
                FileId f = file(c, "f" + k);
                long off = 2L * 3 * B;
                if (k < 5) {
                    assertEquals(Errno.EAGAIN, errno(c.read(f, off, B, IoFlags.NOWAIT)), "file " + k + " was dropped");
                } else {
                    assertArrayEquals(block(k, 3), join(c.read(f, off, B, IoFlags.NOWAIT)), "file " + k + " is cached");
                }
            }
            Map<String, Long> after = join(c.stats());
            assertEquals(5, delta(after, loaded, "eagain_cache"));
            assertEquals(files, after.get("meta_reads"), "NOWAIT reads nothing");
        }
    }

    /** Points extent 3 of {@code ino}'s one leaf block into the inode table, resealed: a crafted image. */
    private static void craftExtentIntoInodeTable(RawImage r, long ino) throws Exception {
        Layout layout = r.layout();
        InodeRecord record = InodeRecord.decode(r.read(layout.inodeBlock(ino)), layout.inodeOffset(ino), ino);
        assertEquals(1, ExtentFormat.depth(record.root(), 0), "one level of extent blocks");
        long leafBlk = ExtentFormat.child(record.root(), 0, 0);
        byte[] leaf = r.read(leafBlk);
        int entry = ExtentFormat.HEADER_BYTES + 3 * ExtentFormat.ENTRY_BYTES;
        RawImage.u16(leaf, entry + 6, 0);
        RawImage.u32(leaf, entry + 8, layout.inodeTableStart());
        ExtentFormat.seal(ino, leafBlk, leaf);
        r.write(leafBlk, leaf);
    }

    @Test
    void aCraftedExtentInACachedBlockIsCorruptionWhenHitNowaitOrNot() throws Exception {
        device = Fixture.newDevice("nowait-crafted");
        byte[] model;
        long nowaitIno;
        long blockingIno;
        try (NodeServer node = start(device, 64L << 20); NodeClient c = Fixture.client(node)) {
            model = manyExtents(c, "nowait", 1, 6);
            manyExtents(c, "blocking", 1, 6);
            nowaitIno = file(c, "nowait").ino();
            blockingIno = file(c, "blocking").ino();
        }
        long dataStartByte;
        try (RawImage r = new RawImage(device)) {
            craftExtentIntoInodeTable(r, nowaitIno);
            craftExtentIntoInodeTable(r, blockingIno);
            dataStartByte = r.layout().dataStart() * B;
        }
        RecordingDataPath[] rec = new RecordingDataPath[1];
        try (NodeServer node = start(device, 64L << 20, real -> rec[0] = new RecordingDataPath(real)); NodeClient c = Fixture.client(node)) {
            FileId nowait = file(c, "nowait");
            FileId blocking = file(c, "blocking");
            long bad = 2L * 3 * B;
            // a blocking read of a sound extent reads the leaf, crafted extent and all, into the cache
            assertArrayEquals(Arrays.copyOf(model, B), join(c.read(nowait, 0, B, 0)));
            assertArrayEquals(Arrays.copyOf(model, B), join(c.read(blocking, 0, B, 0)));
            long cached = join(c.stats()).get("es_cached");
            assertEquals(12, cached, "both leaves cached");

            assertEquals(Errno.EFSCORRUPTED, errno(c.read(nowait, bad, B, IoFlags.NOWAIT)), "a cached bad extent, NOWAIT");
            assertEquals(Errno.EFSCORRUPTED, errno(c.read(blocking, bad, B, 0)), "a cached bad extent, blocking");
            assertEquals(Errno.EFSCORRUPTED, errno(c.write(blocking, bad, block(2, 2), IoFlags.NOWAIT)));
            // the files are marked bad: their sound extents are refused too
            assertEquals(Errno.EFSCORRUPTED, errno(c.read(nowait, 0, B, 0)));
            assertEquals(Errno.EFSCORRUPTED, errno(c.read(blocking, 0, B, IoFlags.NOWAIT)));
            Map<String, Long> stats = join(c.stats());
            assertEquals(0, stats.get("eagain"));
        }
        for (long[] range : rec[0].ranges) {
            assertFalse(range[0] < dataStartByte, "data path I/O in the metadata area at byte " + range[0]);
        }
        assertTrue(Fixture.fsck(device).stream().anyMatch(p -> p.ino() == nowaitIno && p.kind().equals("bad-extent-tree")));
    }
}
