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
import dionode.protocol.message.Request;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The race patch 2 fixes, as xfstests generic/746 shows it, on a file without extents. One
 * request is an async direct overwrite of a written block (its lock goes once it is submitted,
 * its I/O is still in flight); the next is a direct write over a hole and that block, which
 * falls back to buffered. The fallback's pages are held dirty for 50 ms at the named point
 * {@link PageCacheHook.Point#FALLBACK_BEFORE_FLUSH}, the seed's delay. Without inode_dio_wait
 * in the buffered write (the test-only switch), the first write completes under those dirty
 * pages: its post-write invalidation cannot drop them ({@code stale_pagecache}) and fsync
 * answers EIO. With the drain, as shipped, never. Every byte is read back both ways.
 */
class StalePagecacheRaceTest {
    private static final int B = 4096;
    private static final long SIZE = 64L << 20;
    private static final int PAIRS = 24;

    private Path device;
    private NodeServer node;
    private NodeClient c;

    @AfterEach
    void stop() {
        if (c != null) {
            c.close();
            node.close();
        }
        Fixture.deleteQuietly(device);
    }

    private void open(boolean drain) throws Exception {
        device = Fixture.formattedDevice("stale-race", SIZE);
        PageCacheHook hook = new PageCacheHook() {
            @Override
            public CompletableFuture<Void> at(Point point, long ino) {
                return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));
            }

            @Override
            public boolean drainBeforeBufferedWrite() {
                return drain;
            }
        };
        NodeConfig config = Fixture.config(device, SIZE, Duration.ofMillis(200))
                .withPageCache(new NodeConfig.PageCacheConfig(PageCache.DEFAULT_BYTES, Duration.ofHours(1), hook));
        node = Fixture.start(config, Fixture.JNA);
        c = Fixture.client(node);
    }

    private static byte[] fill(int len, int seed) {
        byte[] data = new byte[len];
        Arrays.fill(data, (byte) seed);
        for (int i = 0; i < len; i += 97) {
            data[i] = (byte) (seed + i);
        }
        return data;
    }

    /** Races on {@link #PAIRS} (hole, written block) pairs; answers how many fsyncs after a race were EIO. */
    private int race() {
        FileId f = Fixture.join(c.create(new Request.Create("race", LockPolicy.ZEROING_AWARE, 0644, true, false, true))).file();
        // blocks 2i+1 written, 2i holes inside i_size
        for (int i = 0; i < PAIRS; i++) {
            Fixture.join(c.write(f, (2L * i + 1) * B, fill(B, 1), 0));
        }
        int eio = 0;
        for (int i = 0; i < PAIRS; i++) {
            long hole = 2L * i * B;
            long written = hole + B;
            byte[] over = fill(B, 10 + i);
            byte[] span = fill(2 * B, 100 + i);
            CompletionStage<Long> first = c.write(f, written, over, IoFlags.ASYNC);
            CompletionStage<Long> second = c.write(f, hole, span, 0);
            assertEquals(B, Fixture.join(first));
            assertEquals(2 * B, Fixture.join(second));
            if (Fixture.errno(c.fsync(f)) == Errno.EIO) {
                eio++;
            }
            assertArrayEquals(span, Fixture.join(c.read(f, hole, 2 * B, 0)), "pair " + i + " read direct");
            assertArrayEquals(span, Fixture.join(c.read(f, hole, 2 * B, IoFlags.BUFFERED)), "pair " + i + " read buffered");
        }
        return eio;
    }

    @Test
    @Timeout(60)
    void withoutTheDrainTheDirectWriteCompletesUnderDirtyPages() throws Exception {
        open(false);
        int eio = race();
        Map<String, Long> stats = Fixture.join(c.stats());
        assertEquals(PAIRS, stats.get("dio_fallbacks"));
        assertTrue(stats.get("stale_pagecache") > 0, "the race reproduces: " + stats);
        assertTrue(eio > 0, "and fsync reports it");
        assertEquals(stats.get("stale_pagecache"), (long) eio, "each stale page cache is one fsync EIO");
    }

    @Test
    @Timeout(60)
    void withTheDrainItNeverHappens() throws Exception {
        open(true);
        assertEquals(0, race(), "no fsync EIO");
        Map<String, Long> stats = Fixture.join(c.stats());
        assertEquals(PAIRS, stats.get("dio_fallbacks"));
        assertEquals(0, stats.get("stale_pagecache"));
        assertTrue(stats.get("dio_drains") > 0, "the buffered write waited for the direct write in flight: " + stats);
    }
}
