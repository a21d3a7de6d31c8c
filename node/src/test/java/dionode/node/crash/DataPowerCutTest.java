package dionode.node.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.cache.PageCache;
import dionode.node.cache.PageCacheHook;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.protocol.message.Request;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Power cuts under the paths that do not write the device as the request arrives (DESIGN §4, §5):
 * DAX files, and buffered writes through the page cache to files of both mappings. The device
 * starts full of stale sectors; {@link PowerCutIO} loses every store or write not flushed at the
 * cut, and writes since the last flush keep any of their versions. After the restart every byte
 * of the file is what the last acknowledged fsync left or what a write after it put there, never
 * a stale byte: a block a DAX write allocates is zeroed and flushed before the transaction that
 * maps it can commit (EXT4_GET_BLOCKS_CREATE_ZERO); writeback allocates unwritten (or, without
 * extents, keeps the handle open across the data) and moves i_disksize only after the data, so
 * a buffered write lost at the cut leaves zeros or older bytes. fsck is clean after the cut and
 * after the restart.
 */
class DataPowerCutTest {
    private static final long SIZE = 32 * Fixture.MIB;
    /** The file stays within this many bytes. */
    private static final int SPAN = 3 << 20;

    /** One write: where, and the bytes (each byte is a function of its offset and the write's number, never 0). */
    private record Write(long offset, byte[] data) {
    }

    /** What kind of file, and how it is written. */
    private enum Kind {
        DAX(false, true, false),
        BUFFERED_EXTENTS(true, false, false),
        BUFFERED_INDIRECT(true, false, true);

        final boolean buffered;
        final boolean dax;
        final boolean indirect;

        Kind(boolean buffered, boolean dax, boolean indirect) {
            this.buffered = buffered;
            this.dax = dax;
            this.indirect = indirect;
        }
    }

    @Test
    @Timeout(300)
    void daxFilesKeepEveryFsyncAndExposeNothingStale() throws Exception {
        cuts(Kind.DAX, Integer.getInteger("dionode.daxcut.iterations", 6));
    }

    @Test
    @Timeout(300)
    void bufferedWritesLoseOnlyUnsyncedDataAndExposeNothingStale() throws Exception {
        cuts(Kind.BUFFERED_EXTENTS, Integer.getInteger("dionode.buffercut.iterations", 4));
    }

    @Test
    @Timeout(300)
    void bufferedWritesToFilesWithoutExtentsLoseOnlyUnsyncedDataAndExposeNothingStale() throws Exception {
        cuts(Kind.BUFFERED_INDIRECT, Integer.getInteger("dionode.buffercut.iterations", 4));
    }

    private static void cuts(Kind kind, int iterations) throws Exception {
        long seed = Long.getLong("dionode.datacut.seed", System.nanoTime());
        Random rnd = new Random(seed);
        for (int it = 1; it <= iterations; it++) {
            Path dev = Fixture.newDevice("data-cut");
            try {
                Fixture.staleFormattedDevice(dev, SIZE);
                run(dev, rnd, kind, kind + " iteration " + it + " (seed " + seed + ")");
            } finally {
                Fixture.deleteQuietly(dev);
            }
        }
    }

    private static void run(Path dev, Random rnd, Kind kind, String where) throws Exception {
        PowerCutIO io = new PowerCutIO(Fixture.JNA).wholeWrites(rnd.nextBoolean());
        List<Write> writes = new ArrayList<>();
        /** Writes [0, durable) were acknowledged before the last fsync acknowledged before the cut. */
        AtomicInteger fsynced = new AtomicInteger();
        AtomicInteger durableAtCut = new AtomicInteger(-1);
        /** Buffered DURABLE writes (O_DSYNC) acknowledged: each makes only itself durable. */
        Set<Integer> dsynced = ConcurrentHashMap.newKeySet();
        Set<Integer> dsyncedAtCut = ConcurrentHashMap.newKeySet();
        FileId ino;
        // with a long commit interval, only fsync and DURABLE writes commit; writeback of expired pages comes at any time
        NodeConfig config = Fixture.config(dev, SIZE, Duration.ofHours(1)).withPageCache(new NodeConfig.PageCacheConfig(
                PageCache.MIN_BYTES * (1 + rnd.nextInt(4)), Duration.ofMillis(10 + rnd.nextInt(200)), PageCacheHook.NONE));
        try (NodeServer node = Fixture.start(config, io);
                NodeClient c = Fixture.client(node)) {
            ino = Fixture.join(c.create(new Request.Create("file", null, 0644, true, kind.dax, kind.indirect))).file();
            Fixture.join(c.fsync(ino));
            int flushesBeforeCut = 5 + rnd.nextInt(40);
            io.cutBeforeFlush(flushesBeforeCut, rnd, () -> {
                dsyncedAtCut.addAll(dsynced);
                durableAtCut.set(fsynced.get());
            });
            for (int op = 0; op < 200 && durableAtCut.get() < 0; op++) {
                if (rnd.nextInt(6) == 0) {
                    int issued = writes.size();
                    Fixture.join(c.fsync(ino));
                    fsynced.set(issued);
                } else {
                    Write w = randomWrite(rnd, writes.size() + 1);
                    writes.add(w);
                    int durable = rnd.nextInt(8) == 0 ? IoFlags.DURABLE : 0;
                    Fixture.join(c.write(ino, w.offset(), w.data(), durable | (kind.buffered ? IoFlags.BUFFERED : 0)));
                    if (durable != 0 && kind.buffered) {
                        dsynced.add(writes.size() - 1);
                    } else if (durable != 0) {
                        fsynced.set(writes.size());
                    }
                }
            }
            assertTrue(io.awaitCut(30_000), "the cut came, " + where);
        }
        assertEquals(List.of(), Fixture.fsck(dev), "fsck right after the cut, " + where);
        try (NodeServer node = Fixture.start(Fixture.config(dev, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                NodeClient c = Fixture.client(node)) {
            assertEquals(kind.dax, Fixture.join(c.stat(ino)).dax());
            assertEquals(kind.indirect ? "indirect" : "extents", Fixture.join(c.stat(ino)).mapping());
            verify(c, ino, writes, durableAtCut.get(), dsyncedAtCut, where);
            // the file takes writes again after the restart
            byte[] more = new byte[777];
            java.util.Arrays.fill(more, (byte) 5);
            int flags = kind.dax ? 0 : IoFlags.BUFFERED;
            Fixture.join(c.write(ino, 12345, more, flags));
            assertEquals(java.util.Arrays.toString(more), java.util.Arrays.toString(Fixture.join(c.read(ino, 12345, 777, flags))));
        }
        assertEquals(List.of(), Fixture.fsck(dev), "fsck after the restart, " + where);
    }

    /** Unaligned, often into fresh blocks, sometimes extending, sometimes overwriting. */
    private static Write randomWrite(Random rnd, int number) {
        int len = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(600) : 1 + rnd.nextInt(40_000);
        long offset = rnd.nextInt(SPAN - len);
        byte[] data = new byte[len];
        for (int i = 0; i < len; i++) {
            data[i] = value(number, offset + i);
        }
        return new Write(offset, data);
    }

    /** Never 0, so a byte that reads 0 was never written (and a stale byte matches no write). */
    private static byte value(int number, long at) {
        int v = (int) ((number * 0x9E3779B1L + at * 0x85EBCA6BL) >>> 13) & 0xFF;
        return (byte) (v == 0 ? 1 : v);
    }

    /**
     * Each byte is what the durable writes (those before the last fsync acknowledged before the
     * cut, and the O_DSYNC ones acknowledged before it) left there (0 where none reached it), or
     * what a later write put there; the size covers every durable write and no more than every write.
     */
    private static void verify(NodeClient c, FileId ino, List<Write> writes, int fsynced, Set<Integer> dsynced, String where) {
        long size = Fixture.join(c.stat(ino)).size();
        byte[] model = new byte[SPAN];
        int[] writer = new int[SPAN];
        java.util.Arrays.fill(writer, -1);
        long durableSize = 0;
        long maxSize = 0;
        for (int i = 0; i < writes.size(); i++) {
            Write w = writes.get(i);
            long end = w.offset() + w.data().length;
            maxSize = Math.max(maxSize, end);
            if (i < fsynced || dsynced.contains(i)) {
                System.arraycopy(w.data(), 0, model, (int) w.offset(), w.data().length);
                java.util.Arrays.fill(writer, (int) w.offset(), (int) end, i);
                durableSize = Math.max(durableSize, end);
            }
        }
        assertTrue(size >= durableSize && size <= maxSize, "size " + size + " outside " + durableSize + ".." + maxSize + ", " + where);
        byte[] got = new byte[(int) size];
        for (int at = 0; at < size; at += 1 << 20) {
            byte[] part = Fixture.join(c.read(ino, at, (int) Math.min(1 << 20, size - at), IoFlags.BUFFERED));
            System.arraycopy(part, 0, got, at, part.length);
        }
        int bad = 0;
        String first = null;
        for (int at = 0; at < size; at++) {
            if (got[at] == model[at] || writtenLater(writes, writer[at] + 1, at, got[at])) {
                continue;
            }
            if (bad++ == 0) {
                first = "byte " + at + " reads " + got[at] + ", durable value " + model[at] + " of write " + writer[at];
            }
        }
        assertEquals(0, bad, bad + " bytes neither durable nor written after the last fsync (first: " + first + "), fsynced "
                + fsynced + " and " + dsynced.size() + " O_DSYNC of " + writes.size() + " writes, " + where);
    }

    private static boolean writtenLater(List<Write> writes, int from, int at, byte value) {
        for (int i = from; i < writes.size(); i++) {
            Write w = writes.get(i);
            if (at >= w.offset() && at < w.offset() + w.data().length && w.data()[(int) (at - w.offset())] == value) {
                return true;
            }
        }
        return false;
    }
}
