package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.inode.NodeCounters;
import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * nbdcopy of a mostly empty 1 GiB export against one full of data: block status lets it skip the
 * holes, so the node is asked to read only the data, and the copy takes a fraction of the full
 * one's time; both read back identical. Skipped without nbdcopy ({@link NbdTools}).
 */
class NbdSparseCopyTest {
    static final long G = 1L << 30;
    static final int CHUNK = 8 << 20;
    /** Where the sparse export has data (1 MiB each); a fallocated, unwritten 64 MiB range sits at 100 MiB. */
    static final long[] DATA_AT = {0, 300L << 20, 600L << 20, G - (1 << 20)};
    static NbdFixture nbd;

    @BeforeAll
    static void start() throws Exception {
        nbd = NbdFixture.start(G + (256L << 20), "nbd-copy");
        try (NodeClient c = nbd.client()) {
            FileId sparse = SparseLayout.empty(c, "sparse", G);
            c.fallocate(sparse, 100L << 20, 64L << 20, false).toCompletableFuture().get();
            for (long at : DATA_AT) {
                c.write(sparse, at, sparseData(at), 0).toCompletableFuture().get();
            }
            FileId full = c.create("full", null, 0644, true).toCompletableFuture().get().file();
            for (long at = 0; at < G; at += CHUNK) {
                c.write(full, at, fullData(at), 0).toCompletableFuture().get();
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (nbd != null) {
            nbd.close();
        }
    }

    static byte[] sparseData(long at) {
        return NbdProtocolTest.pattern(1 << 20, at);
    }

    static byte[] fullData(long at) {
        byte[] b = new byte[CHUNK];
        new Random(at).nextBytes(b);
        return b;
    }

    record Copy(long millis, long bytesRead) {
    }

    static Copy copy(String export, Path out) throws Exception {
        try (NodeClient c = nbd.client()) {
            long before = c.stats().toCompletableFuture().get().get(NodeCounters.BYTES_READ);
            long t0 = System.nanoTime();
            NbdTools.Run r = NbdTools.run(nbd.scratch, List.of("nbdcopy", nbd.base + export, out.toString()));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(0, r.exit(), r.output());
            long after = c.stats().toCompletableFuture().get().get(NodeCounters.BYTES_READ);
            return new Copy(millis, after - before);
        }
    }

    /** Compares {@code out} with what the export holds, {@code CHUNK} bytes at a time. */
    static void assertContents(Path out, java.util.function.LongFunction<byte[]> expected) throws Exception {
        assertEquals(G, Files.size(out));
        try (InputStream in = Files.newInputStream(out)) {
            for (long at = 0; at < G; at += CHUNK) {
                assertArrayEquals(expected.apply(at), in.readNBytes(CHUNK), "bytes at " + at);
            }
        }
    }

    static byte[] sparseChunk(long at) {
        byte[] b = new byte[CHUNK];
        for (long d : DATA_AT) {
            if (d >= at && d < at + CHUNK) {
                byte[] data = sparseData(d);
                System.arraycopy(data, 0, b, (int) (d - at), data.length);
            }
        }
        return b;
    }

    @Test
    void nbdcopyOfAMostlyEmptyExportReadsOnlyItsDataAndTakesAFractionOfAFullCopy() throws Exception {
        NbdTools.assumeInstalled("nbdcopy");
        Path sparseOut = nbd.scratch.resolve("sparse.bin");
        Path fullOut = nbd.scratch.resolve("full.bin");
        Copy full = copy("full", fullOut);
        Copy sparse = copy("sparse", sparseOut);
        System.out.printf("nbdcopy 1 GiB: full %d ms (%d bytes read by the node), mostly empty %d ms (%d bytes read)%n",
                full.millis(), full.bytesRead(), sparse.millis(), sparse.bytesRead());
        assertContents(fullOut, NbdSparseCopyTest::fullData);
        assertContents(sparseOut, NbdSparseCopyTest::sparseChunk);
        assertTrue(full.bytesRead() >= G, "the full copy reads everything: " + full.bytesRead());
        long data = DATA_AT.length * (1L << 20);
        // block status finds the holes and the unwritten range: only the data is asked for (nbdcopy reads
        // in requests of its own size, so allow a few of them around each piece)
        assertTrue(sparse.bytesRead() <= data + DATA_AT.length * (2L << 20), "the sparse copy read " + sparse.bytesRead());
        assertTrue(sparse.millis() * 2 < full.millis(), "sparse " + sparse.millis() + " ms against full " + full.millis() + " ms");
    }
}
