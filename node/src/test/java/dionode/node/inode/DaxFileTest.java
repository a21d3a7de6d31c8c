package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.FaultyNativeIO;
import dionode.node.device.JnaNativeIO;
import dionode.node.device.NativeIOException;
import dionode.node.journal.JournalStats;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DAX files (DESIGN §4, patch 9): data through the device's mapping, round trips and restarts,
 * ext4_dax_write_iter's NOWAIT rules (the patch's own example among them, with the journal's
 * handle count as the witness that no handle was started), and the refusal of a device that
 * cannot be mapped. Every node here runs over a {@link FaultyNativeIO}, so a test can hold a DAX
 * flush (msync) and with it the write that holds the lock.
 */
class DaxFileTest {
    private static final int B = 4096;
    private static final long SIZE = 64 << 20;

    private Path device;
    private FaultyNativeIO io;
    private NodeServer node;
    private NodeClient client;

    @BeforeEach
    void start() throws Exception {
        device = TestNodes.newDevicePath();
        io = new FaultyNativeIO(new JnaNativeIO());
        startNode();
    }

    private void startNode() throws Exception {
        node = TestNodes.start(TestNodes.config(device, SIZE, LockPolicy.ZEROING_AWARE), io, Function.identity());
        client = NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    private void stopNode() {
        if (client != null) {
            client.close();
            client = null;
        }
        if (node != null) {
            node.close();
            node = null;
        }
    }

    @AfterEach
    void stop() throws Exception {
        io.hook(null);
        stopNode();
        Files.deleteIfExists(device);
    }

    private static <T> T join(CompletionStage<T> s) {
        return s.toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).join();
    }

    private static NodeException error(CompletionStage<?> s) {
        try {
            join(s);
        } catch (CompletionException e) {
            if (e.getCause() instanceof NodeException n) {
                return n;
            }
            throw e;
        }
        throw new AssertionError("the request succeeded");
    }

    private FileId daxFile(String name) {
        Reply.InodeInfo info = join(client.create(name, null, 0644, true, true));
        assertTrue(info.created());
        return info.file();
    }

    private static byte[] bytes(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (seed + i * 31 + (i >>> 9));
        }
        return b;
    }

    private JournalStats journal() {
        return node.volume().journal().stats();
    }

    private Map<String, Long> stats() {
        return join(client.stats());
    }

    private static void put(byte[] model, long at, byte[] data) {
        System.arraycopy(data, 0, model, (int) at, data.length);
    }

    @Test
    void writesAndReadsAnyByteRangeThroughTheMappingAndStatSaysDax() {
        FileId dax = daxFile("d");
        FileId plain = join(client.create("p", null, 0644, true)).file();
        byte[] model = new byte[64 << 10];
        long before = stats().getOrDefault(NodeCounters.DAX_WRITES, 0L);
        // unaligned, across blocks, with the direct and the buffered flag alike: all through the mapping
        byte[][] writes = {bytes(100, 1), bytes(9000, 2), bytes(3, 3), bytes(20000, 4)};
        long[] offsets = {10, 5000, 4095, 30001};
        int[] flags = {0, IoFlags.BUFFERED, 0, IoFlags.DURABLE};
        for (int i = 0; i < writes.length; i++) {
            assertEquals(writes[i].length, join(client.write(dax, offsets[i], writes[i], flags[i])));
            put(model, offsets[i], writes[i]);
        }
        long size = offsets[3] + writes[3].length;
        assertArrayEquals(Arrays.copyOf(model, (int) size), join(client.read(dax, 0, 64 << 10, 0)), "whole file");
        assertArrayEquals(Arrays.copyOfRange(model, 4090, 4110), join(client.read(dax, 4090, 20, IoFlags.BUFFERED)), "small read");
        assertArrayEquals(Arrays.copyOfRange(model, 5000, 14000), join(client.read(dax, 5000, 9000, 0)), "large read");
        assertEquals(4, stats().get(NodeCounters.DAX_WRITES) - before);

        Reply.FileStat st = join(client.stat(dax));
        assertTrue(st.dax());
        assertEquals(size, st.size());
        assertEquals(size, st.disksize());
        assertEquals(0, st.layout().unwrittenBlocks(), "a DAX write leaves no unwritten extent");
        assertFalse(join(client.stat(plain)).dax());
        // the gaps between the writes are zeros: their blocks were zeroed when they were allocated
        assertArrayEquals(new byte[4095 - 110], join(client.read(dax, 110, 4095 - 110, 0)));
        assertArrayEquals(new byte[30001 - 14000], join(client.read(dax, 14000, 30001 - 14000, 0)));
    }

    @Test
    void fallocatedBlocksAreZeroedAndWrittenByTheFirstWriteIntoThem() {
        FileId dax = daxFile("f");
        join(client.fallocate(dax, 0, 8 * B, false));
        assertEquals(8, join(client.stat(dax)).layout().unwrittenBlocks());
        byte[] data = bytes(10, 7);
        join(client.write(dax, 2 * B + 100, data, 0));
        Reply.FileStat st = join(client.stat(dax));
        assertEquals(7, st.layout().unwrittenBlocks(), "the block written was converted");
        byte[] block = join(client.read(dax, 2 * B, B, 0));
        byte[] want = new byte[B];
        System.arraycopy(data, 0, want, 100, data.length);
        assertArrayEquals(want, block);
    }

    @Test
    void contentAndTheDaxFlagSurviveARestart() throws Exception {
        FileId dax = daxFile("r");
        byte[] a = bytes(12345, 9);
        byte[] b = bytes(777, 11);
        join(client.write(dax, 0, a, 0));
        join(client.write(dax, 20000, b, 0));
        join(client.fsync(dax));
        stopNode();
        startNode();
        FileId again = join(client.lookup("r")).file();
        assertTrue(join(client.stat(again)).dax());
        byte[] model = new byte[20777];
        put(model, 0, a);
        put(model, 20000, b);
        assertArrayEquals(model, join(client.read(again, 0, 30000, 0)));
        byte[] c = bytes(5000, 13);
        join(client.write(again, 3, c, 0));
        put(model, 3, c);
        assertArrayEquals(model, join(client.read(again, 0, 30000, 0)));
    }

    /**
     * Patch 9's example: i_size = i_disksize = 1000, a NOWAIT write at 500 of 2000 bytes starts
     * before EOF (ext4_write_checks lets it through) and ends past i_disksize: EAGAIN, nothing
     * changed, and not one journal handle started (or even tried). Without NOWAIT the same write
     * extends the file.
     */
    @Test
    void patch9NowaitWritePastDisksizeIsEagainBeforeAnyHandle() {
        FileId dax = daxFile("p9");
        byte[] first = bytes(1000, 21);
        join(client.write(dax, 0, first, 0));
        Reply.FileStat was = join(client.stat(dax));
        assertEquals(1000, was.size());
        assertEquals(1000, was.disksize());
        Map<String, Long> statsBefore = stats();
        JournalStats before = journal();

        byte[] second = bytes(2000, 22);
        NodeException refused = error(client.write(dax, 500, second, IoFlags.NOWAIT));
        assertEquals(Errno.EAGAIN, refused.errno());
        assertTrue(refused.getMessage().contains("i_disksize"), refused.getMessage());

        JournalStats after = journal();
        assertEquals(before.handles(), after.handles(), "handles started by the refused write");
        assertEquals(before.handlesRefused(), after.handlesRefused(), "handles tried by the refused write");
        assertEquals(statsBefore.get(NodeCounters.EAGAIN_JOURNAL) + 1, stats().get(NodeCounters.EAGAIN_JOURNAL));
        assertEquals(was, join(client.stat(dax)), "stat after the refusal");
        assertArrayEquals(first, join(client.read(dax, 0, 4096, 0)));

        assertEquals(2000, join(client.write(dax, 500, second, 0)));
        Reply.FileStat now = join(client.stat(dax));
        assertEquals(2500, now.size());
        assertEquals(2500, now.disksize());
        byte[] model = new byte[2500];
        put(model, 0, first);
        put(model, 500, second);
        assertArrayEquals(model, join(client.read(dax, 0, 4096, 0)));
        assertTrue(journal().handles() > after.handles(), "the blocking write took its handles");
    }

    /**
     * Inside i_disksize over written blocks a NOWAIT write needs nothing that sleeps: it succeeds
     * when the lock is free, and is EAGAIN while another write holds the lock (held here in its
     * flush). A NOWAIT read meanwhile is EAGAIN too (the shared trylock), and one into a hole is
     * allocation: EAGAIN.
     */
    @Test
    void nowaitInsideDisksizeSucceedsWhenTheLockIsFree() throws Exception {
        FileId dax = daxFile("n");
        byte[] base = bytes(4 * B, 31);
        join(client.write(dax, 0, base, 0));
        byte[] small = bytes(300, 32);
        assertEquals(300, join(client.write(dax, B - 100, small, IoFlags.NOWAIT)));
        byte[] model = base.clone();
        put(model, B - 100, small);
        assertArrayEquals(model, join(client.read(dax, 0, 4 * B, IoFlags.NOWAIT)));

        CountDownLatch inFlush = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        io.hook((op, fd, offset, count) -> {
            if (op == FaultyNativeIO.Op.MSYNC && inFlush.getCount() > 0) {
                inFlush.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        byte[] held = bytes(B, 33);
        CompletableFuture<Long> holder = client.write(dax, 2 * B, held, 0).toCompletableFuture();
        assertTrue(inFlush.await(10, TimeUnit.SECONDS));
        assertEquals(Errno.EAGAIN, error(client.write(dax, 0, small, IoFlags.NOWAIT)).errno());
        assertEquals(Errno.EAGAIN, error(client.read(dax, 0, 100, IoFlags.NOWAIT)).errno());
        release.countDown();
        assertEquals(B, join(holder));
        io.hook(null);
        put(model, 2 * B, held);

        assertEquals(300, join(client.write(dax, 100, small, IoFlags.NOWAIT)));
        put(model, 100, small);
        assertArrayEquals(model, join(client.read(dax, 0, 4 * B, 0)));

        join(client.truncate(dax, 16 * B));
        long allocRefusals = stats().get(NodeCounters.EAGAIN_ALLOC);
        assertEquals(Errno.EAGAIN, error(client.write(dax, 8 * B, small, IoFlags.NOWAIT)).errno(), "a hole: allocation");
        assertEquals(allocRefusals + 1, stats().get(NodeCounters.EAGAIN_ALLOC));
    }

    @Test
    void aFailedFlushFailsTheWriteAndAnExtendingOneLeavesTheSizeAsItWas() {
        FileId dax = daxFile("e");
        byte[] first = bytes(B, 41);
        join(client.write(dax, 0, first, 0));
        io.failAfter(FaultyNativeIO.Op.MSYNC, 0, NativeIOException.EIO);
        assertEquals(Errno.EIO, error(client.write(dax, B, bytes(2 * B, 42), 0)).errno());
        Reply.FileStat st = join(client.stat(dax));
        assertEquals(B, st.size());
        assertEquals(B, st.disksize());
        assertEquals(1, st.blocks(), "the blocks the failed write allocated were given back");
        assertArrayEquals(first, join(client.read(dax, 0, 3 * B, 0)));
    }

    @Test
    void aDeviceThatCannotBeMappedRefusesDaxAtCreateSayingWhy() throws Exception {
        FileId dax = daxFile("before");
        join(client.write(dax, 0, bytes(100, 1), 0));
        stopNode();
        io.failAlwaysAfter(FaultyNativeIO.Op.MMAP, 0, NativeIOException.ENODEV);
        startNode();
        NodeException refused = error(client.create("x", null, 0644, true, true));
        assertEquals(Errno.EOPNOTSUPP, refused.errno());
        assertTrue(refused.getMessage().contains("cannot map") && refused.getMessage().contains("DAX"), refused.getMessage());
        assertNull(lookupOrNull("x"), "nothing was created");
        FileId plain = join(client.create("plain", null, 0644, true)).file();
        assertEquals(512, join(client.write(plain, 0, bytes(512, 2), 0)));
        // a DAX file made where the device could be mapped: its data cannot be reached here
        FileId old = join(client.lookup("before")).file();
        assertTrue(join(client.stat(old)).dax());
        assertEquals(Errno.EOPNOTSUPP, error(client.read(old, 0, 100, 0)).errno());
        assertEquals(Errno.EOPNOTSUPP, error(client.write(old, 0, bytes(10, 3), 0)).errno());
    }

    private FileId lookupOrNull(String name) {
        List<Reply.DirEntry> all = join(client.list());
        return all.stream().filter(e -> e.name().equals(name)).map(Reply.DirEntry::file).findFirst().orElse(null);
    }
}
