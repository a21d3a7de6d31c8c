package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.cache.PageCache;
import dionode.node.cache.PageCacheHook;
import dionode.node.crash.Fixture;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The page cache through a real node (DESIGN §4): a buffered write answers with its bytes only in
 * memory, reads come back from the cache, direct I/O sees them after the flush it makes, fsync
 * and expiry write them back, a small cache reclaims and still reads back every byte, and a clean
 * shutdown loses nothing.
 */
class PageCacheTest {
    private static final int B = 4096;
    private static final long SIZE = 64L << 20;
    private static final int BUF = IoFlags.BUFFERED;

    private Path device;
    private NodeServer node;
    private NodeClient c;

    @BeforeEach
    void format() throws Exception {
        device = Fixture.formattedDevice("page-cache", SIZE);
    }

    private void open(long cacheBytes, Duration expire) throws Exception {
        NodeConfig config = Fixture.config(device, SIZE, Duration.ofMillis(200))
                .withPageCache(new NodeConfig.PageCacheConfig(cacheBytes, expire, PageCacheHook.NONE));
        node = Fixture.start(config, Fixture.JNA);
        c = Fixture.client(node);
    }

    private void close() {
        if (c != null) {
            c.close();
            node.close();
            c = null;
        }
    }

    @AfterEach
    void stop() {
        close();
        Fixture.deleteQuietly(device);
    }

    private FileId create(String name, boolean indirect) {
        return Fixture.join(c.create(new Request.Create(name, LockPolicy.ZEROING_AWARE, 0644, true, false, indirect))).file();
    }

    private Map<String, Long> stats() {
        return Fixture.join(c.stats());
    }

    private static byte[] fill(int len, int seed) {
        byte[] data = new byte[len];
        for (int i = 0; i < len; i++) {
            data[i] = (byte) (seed * 31 + i * 7 + 1);
        }
        return data;
    }

    @Test
    void aBufferedWriteAnswersBeforeItsPagesAreOnTheDeviceAndDirectIoFlushesThem() throws Exception {
        open(PageCache.DEFAULT_BYTES, Duration.ofHours(1));
        FileId f = create("f", false);
        byte[] data = fill(10_000, 1);
        assertEquals(10_000L, Fixture.join(c.write(f, 100, data, BUF)));
        Reply.FileStat stat = Fixture.join(c.stat(f));
        assertEquals(10_100, stat.size());
        assertEquals(0, stat.disksize(), "nothing on the device yet");
        assertEquals(0, Fixture.join(c.fiemap(f, 0, 1 << 20)).size(), "no block allocated yet (delayed allocation)");
        assertEquals(3, stats().get("page_cache_dirty"));
        assertEquals(0, stats().get("writeback_pages"));
        assertArrayEquals(data, Fixture.join(c.read(f, 100, 10_000, BUF)), "read back from the cache");
        assertTrue(stats().get("page_cache_hits") >= 3);

        byte[] direct = Fixture.join(c.read(f, 0, 3 * B, 0));
        assertArrayEquals(data, Arrays.copyOfRange(direct, 100, 10_100), "a direct read writes the range back first");
        assertEquals(0, stats().get("page_cache_dirty"));
        assertEquals(3, stats().get("writeback_pages"));
        assertEquals(10_100, Fixture.join(c.stat(f)).disksize(), "i_disksize moved with the data");
    }

    @Test
    void fsyncWritesBackAndAShutdownLosesNothing() throws Exception {
        open(PageCache.DEFAULT_BYTES, Duration.ofHours(1));
        FileId f = create("f", false);
        byte[] first = fill(3 * B + 5, 2);
        Fixture.join(c.write(f, 7, first, BUF));
        Fixture.join(c.fsync(f));
        assertEquals(0, stats().get("page_cache_dirty"));
        assertEquals(7 + first.length, Fixture.join(c.stat(f)).disksize());
        byte[] second = fill(2 * B, 3);
        Fixture.join(c.write(f, 20 * B, second, BUF));
        close();
        open(PageCache.DEFAULT_BYTES, Duration.ofHours(1));
        assertArrayEquals(first, Arrays.copyOfRange(Fixture.join(c.read(f, 0, 4 * B, 0)), 7, 7 + first.length));
        assertArrayEquals(second, Fixture.join(c.read(f, 20 * B, second.length, 0)), "the shutdown wrote the dirty pages back");
        assertEquals(22 * B, Fixture.join(c.stat(f)).size());
        close();
        assertEquals(java.util.List.of(), Fixture.fsck(device));
    }

    @Test
    void expiredPagesAreWrittenBackWithoutBeingAsked() throws Exception {
        open(PageCache.DEFAULT_BYTES, Duration.ofMillis(100));
        FileId f = create("f", false);
        Fixture.join(c.write(f, 0, fill(5 * B, 4), BUF));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (stats().get("page_cache_dirty") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, stats().get("page_cache_dirty"), "the flusher wrote them back after the expiry");
        assertEquals(5 * B, Fixture.join(c.stat(f)).disksize());
    }

    @Test
    void aNowaitDirectWriteOverDirtyPagesIsEagain() throws Exception {
        open(PageCache.DEFAULT_BYTES, Duration.ofHours(1));
        FileId f = create("f", false);
        Fixture.join(c.write(f, 0, fill(2 * B, 5), 0));
        Fixture.join(c.write(f, 10, fill(100, 6), BUF));
        assertEquals(Errno.EAGAIN, Fixture.errno(c.write(f, 0, fill(B, 7), IoFlags.NOWAIT)));
        assertEquals(1, stats().get("eagain_pagecache"));
        Fixture.join(c.write(f, 0, fill(B, 7), 0));
        assertArrayEquals(fill(B, 7), Fixture.join(c.read(f, 0, B, BUF)), "the direct write invalidated the cached page");
    }

    /** Buffered and direct writes and reads, truncates and punches, in any order: every read matches the model. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @Timeout(120)
    void mixedBufferedAndDirectIoReadsBackExactly(boolean indirect) throws Exception {
        open(PageCache.MIN_BYTES, Duration.ofMillis(50));
        FileId f = create("mixed", indirect);
        int span = 2 << 20;
        byte[] model = new byte[span];
        long size = 0;
        Random rnd = new Random(42);
        for (int op = 0; op < 600; op++) {
            int kind = rnd.nextInt(10);
            if (kind < 4) {
                int len = 1 + rnd.nextInt(3 * B);
                int at = rnd.nextInt(span - len);
                byte[] data = fill(len, op);
                Fixture.join(c.write(f, at, data, BUF));
                System.arraycopy(data, 0, model, at, len);
                size = Math.max(size, at + len);
            } else if (kind < 6) {
                int len = B * (1 + rnd.nextInt(4));
                int at = B * rnd.nextInt(span / B - 4);
                byte[] data = fill(len, op);
                Fixture.join(c.write(f, at, data, 0));
                System.arraycopy(data, 0, model, at, len);
                size = Math.max(size, at + len);
            } else if (kind < 8) {
                int len = 1 + rnd.nextInt(4 * B);
                int at = rnd.nextInt(span - len);
                boolean buffered = rnd.nextBoolean();
                if (!buffered) {
                    at = at / B * B;
                    len = (len + B - 1) / B * B;
                }
                int expect = (int) Math.max(0, Math.min(len, size - at));
                byte[] got = Fixture.join(c.read(f, at, len, buffered ? BUF : 0));
                assertArrayEquals(Arrays.copyOfRange(model, at, at + expect), got, "op " + op + " read at " + at + " +" + len
                        + (buffered ? " buffered" : " direct"));
            } else if (kind == 8) {
                long to = rnd.nextInt(span);
                Fixture.join(c.truncate(f, to));
                if (to < size) {
                    Arrays.fill(model, (int) to, span, (byte) 0);
                }
                size = to;
            } else {
                int len = 1 + rnd.nextInt(3 * B);
                int at = rnd.nextInt(span - len);
                Fixture.join(c.punchHole(f, at, len));
                int end = (int) Math.min(at + len, size);
                if (at < end) {
                    Arrays.fill(model, at, end, (byte) 0);
                }
            }
        }
        Fixture.join(c.fsync(f));
        assertEquals(size, Fixture.join(c.stat(f)).size());
        assertArrayEquals(Arrays.copyOf(model, (int) size), Fixture.join(c.read(f, 0, (int) size, BUF)));
        close();
        assertEquals(java.util.List.of(), Fixture.fsck(device));
        open(PageCache.MIN_BYTES, Duration.ofMillis(50));
        int aligned = (int) ((size + B - 1) / B * B);
        assertArrayEquals(Arrays.copyOf(model, (int) size), Fixture.join(c.read(f, 0, aligned, 0)), "after a restart");
    }

    /**
     * ext4_da_reserve_space: a buffered write into holes reserves its blocks, so a full device
     * answers ENOSPC (or a short write) to the write, never EIO to a later fsync, and every byte
     * acknowledged reads back.
     */
    @Test
    @Timeout(120)
    void aFullDeviceRefusesBufferedWritesUpFrontAndLosesNothingAcknowledged() throws Exception {
        open(4L << 20, Duration.ofMillis(50));
        FileId f = create("fill", false);
        FileId g = create("direct", false);
        int chunk = 256 * 1024;
        long acknowledged = 0;
        Errno refused = null;
        while (refused == null && acknowledged < 2 * SIZE) {
            byte[] data = fill(chunk, (int) (acknowledged / chunk));
            try {
                long n = Fixture.join(c.write(f, acknowledged, data, BUF));
                acknowledged += n;
                if (n < chunk) {
                    refused = Errno.ENOSPC;
                }
            } catch (CompletionException e) {
                if (!(e.getCause() instanceof NodeException ne)) {
                    throw e;
                }
                refused = ne.errno();
            }
            if (acknowledged % (4 * chunk) == 0) {
                // direct writes compete for the same blocks; they must not take what buffered writes reserved
                Fixture.errno(c.write(g, acknowledged, fill(B, 9), 0));
            }
        }
        assertEquals(Errno.ENOSPC, refused);
        assertTrue(acknowledged > SIZE / 2, "the device filled: " + acknowledged);
        assertEquals(null, Fixture.errno(c.fsync(f)), "no acknowledged write failed at writeback");
        for (long at = 0; at < acknowledged; at += chunk) {
            int len = (int) Math.min(chunk, acknowledged - at);
            assertArrayEquals(Arrays.copyOf(fill(chunk, (int) (at / chunk)), len), Fixture.join(c.read(f, at, len, 0)), "at " + at);
        }
        close();
        assertEquals(java.util.List.of(), Fixture.fsck(device));
    }

    @Test
    @Timeout(120)
    void aSmallCacheReclaimsAndStillReadsBackEveryByte() throws Exception {
        open(PageCache.MIN_BYTES, Duration.ofHours(1));
        long capacity = PageCache.MIN_BYTES / B;
        FileId[] files = {create("a", false), create("b", true), create("c", false)};
        int perFile = 3 << 20;
        int chunk = 48 * 1024 + 3;
        long maxPages = 0;
        for (int at = 0; at < perFile; at += chunk) {
            for (int i = 0; i < files.length; i++) {
                int len = Math.min(chunk, perFile - at);
                Fixture.join(c.write(files[i], at, fill(len, at + i), BUF));
            }
            maxPages = Math.max(maxPages, stats().get("page_cache_pages"));
        }
        assertTrue(maxPages <= capacity, maxPages + " pages cached, budget " + capacity);
        Map<String, Long> s = stats();
        assertTrue(s.get("page_reclaims") > 0, "clean pages were reclaimed: " + s);
        assertTrue(s.get("writeback_pages") >= 3L * perFile / B - capacity, "dirty pages were written back to make room: " + s);
        for (int i = 0; i < files.length; i++) {
            for (int at = 0; at < perFile; at += chunk) {
                int len = Math.min(chunk, perFile - at);
                int flags = (at / chunk) % 2 == 0 ? BUF : 0;
                int from = flags == 0 ? at / B * B : at;
                int to = flags == 0 ? Math.min(perFile, (at + len + B - 1) / B * B) : at + len;
                byte[] got = Fixture.join(c.read(files[i], from, to - from, flags));
                byte[] want = Arrays.copyOfRange(got, at - from, at - from + len);
                assertArrayEquals(fill(len, at + i), want, "file " + i + " at " + at);
            }
        }
        assertTrue(stats().get("page_cache_pages") <= capacity);
    }
}
