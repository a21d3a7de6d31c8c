package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.node.cache.PageCache;
import dionode.node.cache.PageCacheHook;
import dionode.node.crash.Fixture;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Request;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A write into a full cache: making room never evicts the pages the write itself is about to fill. */
class PageCacheBudgetTest {
    private static final int B = 4096;
    private static final long SIZE = 64L << 20;
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

    @Test
    void aWriteOverItsOwnLeastRecentlyUsedPagesInAFullCacheSucceeds() throws Exception {
        device = Fixture.formattedDevice("page-budget", SIZE);
        NodeConfig config = Fixture.config(device, SIZE, Duration.ofMillis(200))
                .withPageCache(new NodeConfig.PageCacheConfig(PageCache.MIN_BYTES, Duration.ofHours(1), PageCacheHook.NONE));
        node = Fixture.start(config, Fixture.JNA);
        c = Fixture.client(node);
        FileId f = Fixture.join(c.create(new Request.Create("f", LockPolicy.ZEROING_AWARE, 0644, true, false, false))).file();
        byte[] old = new byte[256 * B];
        Arrays.fill(old, (byte) 1);
        Fixture.join(c.write(f, 0, old, 0));
        // fill the 256-page cache, clean, pages 250..255 least recently used
        Fixture.join(c.read(f, 250L * B, 6 * B, IoFlags.BUFFERED));
        Fixture.join(c.read(f, 0, 250 * B, IoFlags.BUFFERED));
        assertEquals(256L, Fixture.join(c.stats()).get("page_cache_pages"));
        byte[] data = new byte[11 * B];
        Arrays.fill(data, (byte) 2);
        assertEquals((long) data.length, Fixture.join(c.write(f, 250L * B, data, IoFlags.BUFFERED)));
        assertArrayEquals(data, Fixture.join(c.read(f, 250L * B, data.length, IoFlags.BUFFERED)));
    }
}
