package dionode.loadgen;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Builds the seed's file layouts on a node and checks them with fiemap, as the kernel anchor does
 * with {@code fallocate} + {@code layoutN.fio} + {@code filefrag -v | checklayout.py}. Stateless.
 *
 * <p>Building: {@code fallocate} the whole file (unwritten, {@code i_size} set so no test write
 * extends it), then write the layout's written blocks with aligned writes, many in flight on a few
 * connections ({@link IoFlags#ASYNC}; aligned writes into allocated blocks take the shared lock
 * under every policy).
 */
public final class Layouts {
    /** Connections used to write a layout, and requests in flight on each. */
    static final int LAYOUT_CONNECTIONS = Integer.getInteger("loadgen.layoutConnections", 2);
    static final int LAYOUT_WINDOW = Integer.getInteger("loadgen.layoutWindow", 96);

    static final boolean DEBUG = System.getenv("LOADGEN_DEBUG") != null;

    private Layouts() {
    }

    /** What fiemap showed. */
    public record Verification(long extents, long blocks, long mismatchingBlocks, long gaps, long fiemapCalls) {
        public boolean exact() {
            return mismatchingBlocks == 0 && gaps == 0;
        }

        @Override
        public String toString() {
            return "extents=" + extents + " blocks=" + blocks + " mismatching_blocks=" + mismatchingBlocks + " gaps=" + gaps;
        }
    }

    /**
     * Creates {@code name} (exclusively) with {@code policy}, fallocates {@code fileBytes} and writes
     * {@code test}'s layout. Returns the file handle.
     */
    public static FileId build(Target node, NodeClient control, String name, LockPolicy policy, SeedTest test,
            long fileBytes) throws IOException {
        FileId file = control.create(name, policy, 0644, true).toCompletableFuture().join().file();
        control.fallocate(file, 0, fileBytes, false).toCompletableFuture().join();
        writeLayout(node, file, test, fileBytes);
        return file;
    }

    /** Writes the written blocks of {@code test}'s layout into an already fallocated file. */
    public static void writeLayout(Target node, FileId file, SeedTest test, long fileBytes) throws IOException {
        long[][] writes = test.layoutWrites(fileBytes);
        byte[][] data = {new byte[SeedTest.BLOCK], new byte[2 * SeedTest.BLOCK]};
        for (byte[] d : data) {
            java.util.Arrays.fill(d, (byte) 0x5a);
        }
        ClientOptions opts = ClientOptions.defaults().withMaxInFlight(LAYOUT_WINDOW + 8);
        NodeClient[] clients = new NodeClient[LAYOUT_CONNECTIONS];
        try {
            for (int c = 0; c < clients.length; c++) {
                clients[c] = node.connect(opts, c);
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread[] threads = new Thread[clients.length];
            for (int c = 0; c < clients.length; c++) {
                NodeClient client = clients[c];
                int first = c;
                threads[c] = new Thread(() -> {
                    Semaphore window = new Semaphore(LAYOUT_WINDOW);
                    for (int i = first; i < writes.length && failure.get() == null; i += clients.length) {
                        window.acquireUninterruptibly();
                        long[] w = writes[i];
                        byte[] d = w[1] == SeedTest.BLOCK ? data[0] : data[1];
                        client.write(file, w[0], d, IoFlags.ASYNC).whenComplete((n, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            }
                            window.release();
                        });
                    }
                    window.acquireUninterruptibly(LAYOUT_WINDOW);
                }, "layout-writer-" + c);
                threads[c].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new IOException("layout write failed: " + failure.get().getMessage(), failure.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing the layout", e);
        } finally {
            for (NodeClient c : clients) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    /** Writes {@code [0, fileBytes)} in full with 1 MiB aligned writes, pipelined (a "written" layout). */
    public static void fill(Target node, FileId file, long fileBytes) throws IOException {
        int chunk = 1 << 20;
        byte[] data = new byte[chunk];
        java.util.Arrays.fill(data, (byte) 0x5a);
        try (NodeClient c = node.connect(ClientOptions.defaults().withMaxInFlight(16))) {
            java.util.List<java.util.concurrent.CompletableFuture<Long>> fs = new java.util.ArrayList<>();
            for (long off = 0; off < fileBytes; off += chunk) {
                int len = (int) Math.min(chunk, fileBytes - off);
                fs.add(c.write(file, off, len == chunk ? data : java.util.Arrays.copyOf(data, len), IoFlags.ASYNC).toCompletableFuture());
            }
            for (var f : fs) {
                f.join();
            }
        }
    }

    /**
     * Reads the file's whole extent map with fiemap (pages of at most 16384 extents, each continued
     * from the end of the last extent returned) and compares every 4 KiB block of
     * {@code [0, fileBytes)} with {@code test}'s pattern. The node merges physically contiguous
     * extents of the same state (Test 2: block 3 of a stripe with block 0 of the next), so the check
     * is per block, not per extent.
     */
    public static Verification verify(NodeClient client, FileId file, SeedTest test, long fileBytes) {
        long pos = 0;
        long extents = 0;
        long blocks = 0;
        long bad = 0;
        long gaps = 0;
        long calls = 0;
        boolean last = false;
        while (!last && pos < fileBytes) {
            List<Reply.FiemapExtent> page = client.fiemap(file, pos, 0).toCompletableFuture().join();
            calls++;
            if (page.isEmpty()) {
                break;
            }
            for (Reply.FiemapExtent e : page) {
                extents++;
                long start = Math.max(e.logical(), pos);
                if (e.logical() > pos) {
                    gaps++;
                    bad += (Math.min(e.logical(), fileBytes) - pos) / SeedTest.BLOCK; // holes match no pattern
                }
                long end = Math.min(e.logical() + e.length(), fileBytes);
                for (long b = start / SeedTest.BLOCK; b < end / SeedTest.BLOCK; b++) {
                    blocks++;
                    if (test.unwrittenBlock(b) != e.unwritten()) {
                        bad++;
                    }
                }
                pos = Math.max(pos, e.logical() + e.length());
                if ((e.flags() & Reply.FiemapExtent.LAST) != 0) {
                    last = true;
                }
            }
        }
        if (pos < fileBytes) {
            gaps++;
            bad += (fileBytes - pos) / SeedTest.BLOCK;
        }
        return new Verification(extents, blocks, bad, gaps, calls);
    }

    /** Builds and verifies; throws if the pattern is not exact. */
    public static FileId buildVerified(Target node, NodeClient control, String name, LockPolicy policy, SeedTest test,
            long fileBytes) throws IOException {
        long t0 = System.nanoTime();
        FileId file = build(node, control, name, policy, test, fileBytes);
        long t1 = System.nanoTime();
        Verification v = verify(control, file, test, fileBytes);
        if (DEBUG) {
            System.err.printf("%nlayout %s test %d %d MiB: build %.2f s, verify %.2f s, %s%n", name, test.number(), fileBytes >> 20,
                    (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9, v);
        }
        if (!v.exact()) {
            throw new IOException("layout of test " + test.number() + " in " + name + " is not exact: " + v);
        }
        return file;
    }

    /** Removes {@code name} if it exists (a leftover of an interrupted run). */
    public static void removeQuietly(NodeClient control, String name) {
        try {
            control.unlink(name).toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // not there
        }
    }

    /** Removes a test file: its blocks are free for the next file once the unlink commits. */
    public static void remove(NodeClient control, String name) {
        control.unlink(name).toCompletableFuture().join();
    }

    /**
     * Waits (up to {@code timeoutMs}) until the node reports at least {@code blocks} free blocks: an
     * unlinked file's extent blocks become reusable only once the journal is checkpointed (its data
     * blocks at commit, which the node forces itself when an allocation needs them), and a device
     * sized for one file needs them all. Returns the free count last seen.
     */
    public static long awaitFreeBlocks(NodeClient control, long blocks, long timeoutMs) {
        long until = System.nanoTime() + timeoutMs * 1_000_000;
        long free;
        while (true) {
            Long f = control.stats().toCompletableFuture().join().get("free_blocks");
            free = f == null ? Long.MAX_VALUE : f;
            if (free >= blocks || System.nanoTime() - until > 0) {
                return free;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return free;
            }
        }
    }
}
