package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.JnaNativeIO;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Writeback under faults and reorderings, its data writes held or failed by a gate (DESIGN §4):
 * an extending direct write never moves i_disksize over blocks whose writeback data is not in;
 * a failed writeback fails the O_DSYNC write that waited for it and is reported by fsync even
 * after the actor is passivated; a run an actor left at a restart never lands over a newer one;
 * and passivation racing new requests leaks no page.
 */
class WritebackFaultTest {
    private static final int B = 4096;

    /** Holds data writes while closed; lets the newest go first. */
    static final class LifoGate implements DataPath {
        final DataPath real;
        volatile boolean closed;
        final LinkedBlockingDeque<Runnable> held = new LinkedBlockingDeque<>();

        LifoGate(DataPath real) {
            this.real = real;
        }

        volatile boolean errorOnNextRead;

        @Override
        public CompletableFuture<Void> read(List<ReadSeg> segs) {
            if (errorOnNextRead) {
                errorOnNextRead = false;
                throw new Error("injected: a failure escaping the inode actor");
            }
            return real.read(segs);
        }

        volatile boolean failNextWrite;

        @Override
        public CompletableFuture<Void> write(List<WriteSeg> segs) {
            if (failNextWrite) {
                failNextWrite = false;
                return CompletableFuture.failedFuture(new java.io.IOException("injected EIO"));
            }
            if (!closed) {
                return real.write(segs);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            held.add(() -> real.write(segs).whenComplete((v, e) -> {
                if (e != null) {
                    f.completeExceptionally(e);
                } else {
                    f.complete(null);
                }
            }));
            return f;
        }

        void awaitHeld(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (held.size() < n) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("held " + held.size());
                }
                Thread.sleep(2);
            }
        }

        void openAll() {
            closed = false;
            Runnable r;
            while ((r = held.poll()) != null) {
                r.run();
            }
        }
    }

    private Path device;
    private NodeServer node;
    private LifoGate gate;
    private NodeClient client;

    @AfterEach
    void stop() throws Exception {
        if (gate != null) {
            gate.openAll();
        }
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    static <T> T join(CompletionStage<T> s) {
        return s.toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).join();
    }

    private void start() throws Exception {
        start(java.time.Duration.ofSeconds(30));
    }

    private void start(java.time.Duration idle) throws Exception {
        device = TestNodes.newDevicePath();
        node = TestNodes.start(TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE)
                .withTimes(java.time.Duration.ofMillis(200), idle), new JnaNativeIO(), real -> {
            gate = new LifoGate(real);
            return gate;
        });
        client = NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    @Test
    void aDurableBufferedWriteWhoseWritebackFailsIsNotAcknowledged() throws Exception {
        start();
        FileId f = join(client.create("f", LockPolicy.ZEROING_AWARE, 0644, true)).file();
        byte[] a = new byte[B];
        Arrays.fill(a, (byte) 0xa);
        gate.failNextWrite = true; // the run that writes the page back fails (EIO)
        Errno got = null;
        try {
            join(client.write(f, 0, a, IoFlags.BUFFERED | IoFlags.DURABLE));
        } catch (java.util.concurrent.CompletionException e) {
            got = ((dionode.protocol.client.NodeException) e.getCause()).errno();
        }
        assertEquals(Errno.EIO, got, "O_DSYNC write answered though its data is not on the device: "
                + Arrays.toString(Arrays.copyOf(join(client.read(f, 0, B, 0)), 4)));
    }

    @Test
    void passivationRaceLeaksNothing() throws Exception {
        start(java.time.Duration.ofMillis(10));
        FileId f = join(client.create("f", LockPolicy.ZEROING_AWARE, 0644, true)).file();
        byte[] a = new byte[B];
        Arrays.fill(a, (byte) 0xa);
        java.util.Random rnd = new java.util.Random(1);
        for (int i = 0; i < 300; i++) {
            join(client.write(f, (i % 8) * (long) B, a, IoFlags.BUFFERED));
            join(client.fsync(f));
            java.util.concurrent.locks.LockSupport.parkNanos(8_000_000L + rnd.nextInt(20_000_000));
        }
        Thread.sleep(200);
        java.util.Map<String, Long> st = join(client.stats());
        assertEquals(0L, st.get("page_cache_pages"), "every actor passivated: no page left cached");
    }

    @Test
    void controlWithoutPassivationFsyncAnswersEio() throws Exception {
        passivationCase(java.time.Duration.ofSeconds(30));
    }

    @Test
    void aWritebackErrorIsStillReportedByFsyncAfterTheActorIsPassivated() throws Exception {
        passivationCase(java.time.Duration.ofMillis(100));
    }

    private void passivationCase(java.time.Duration idle) throws Exception {
        start(idle);
        FileId f = join(client.create("f", LockPolicy.ZEROING_AWARE, 0644, true)).file();
        byte[] a = new byte[B];
        Arrays.fill(a, (byte) 0xa);
        join(client.write(f, 0, a, IoFlags.BUFFERED));
        gate.failNextWrite = true;
        join(client.read(f, 0, B, 0)); // a direct read writes page 0 back first: that writeback fails
        Thread.sleep(1000); // idle ticks: the actor is passivated (its pages are all clean)
        Errno got = null;
        try {
            join(client.fsync(f));
        } catch (java.util.concurrent.CompletionException e) {
            got = ((dionode.protocol.client.NodeException) e.getCause()).errno();
        }
        assertEquals(Errno.EIO, got, "the first fsync after the failed writeback; size now " + join(client.stat(f)).size());
    }

    @Test
    void aRunAbandonedByARestartDoesNotLandOverTheNewerRunOfItsPages() throws Exception {
        start();
        FileId f = join(client.create("f", LockPolicy.ZEROING_AWARE, 0644, true)).file();
        byte[] a = new byte[B];
        Arrays.fill(a, (byte) 0xa);
        byte[] b = new byte[B];
        Arrays.fill(b, (byte) 0xb);
        join(client.write(f, 3L * B, a, 0)); // a written block to read, and i_disksize past page 0
        join(client.write(f, 0, a, IoFlags.BUFFERED));
        gate.closed = true;
        CompletionStage<Void> first = client.fsync(f); // run 1 takes page 0 (bytes A); its data write is held
        gate.awaitHeld(1);
        join(client.write(f, 0, b, IoFlags.BUFFERED)); // page 0 dirty again (B) while under writeback
        gate.errorOnNextRead = true;
        try {
            join(client.read(f, 3L * B, B, 0)); // the Error escapes: the actor restarts, run 1 is abandoned
        } catch (RuntimeException expected) {
            // EIO
        }
        try {
            join(first);
        } catch (RuntimeException expected) {
            // EIO: answered by the stopped actor
        }
        CompletionStage<Void> second = client.fsync(f); // the new actor must not take page 0 while run 1 may land
        Thread.sleep(200);
        assertEquals(1, gate.held.size(), "no second run of page 0 while the first one's write is pending");
        assertTrue(!second.toCompletableFuture().isDone());
        gate.openAll(); // run 1's write lands; then page 0 (bytes B) is written again and the fsync answers
        join(second);
        org.junit.jupiter.api.Assertions.assertArrayEquals(b, join(client.read(f, 0, B, 0)),
                "the device has what the last fsync answered for");
    }

    @Test
    void anExtendingDirectWriteDoesNotExposeAWritebackRunsBlocksBeforeTheirData() throws Exception {
        start();
        FileId f = join(client.create("f", LockPolicy.ZEROING_AWARE, 0644, true)).file();
        byte[] a = new byte[B];
        Arrays.fill(a, (byte) 0xa);
        join(client.write(f, 0, a, IoFlags.BUFFERED));
        join(client.write(f, 10L * B, a, IoFlags.BUFFERED));
        assertEquals(0, join(client.stat(f)).disksize());
        gate.closed = true;
        // fsync: the run of page 0 moves i_disksize, allocates block 0 written under the orphan entry; its data is held
        CompletionStage<Void> fsync = client.fsync(f);
        gate.awaitHeld(1);
        // an extending direct write into the hole at block 5 (inside i_size, past i_disksize)
        CompletionStage<Long> direct = client.write(f, 5L * B, a, IoFlags.DURABLE);
        gate.awaitHeld(2);
        gate.held.pollLast().run(); // the direct write's data lands first
        join(direct); // DURABLE: its transaction is committed
        Reply.FileStat stat = join(client.stat(f));
        List<Reply.FiemapExtent> map = join(client.fiemap(f, 0, 0));
        Reply.FiemapExtent first = map.get(0);
        boolean block0Exposed = stat.disksize() > 0 && first.logical() == 0 && !first.unwritten();
        assertTrue(!block0Exposed, "committed: i_disksize " + stat.disksize() + " covers block 0 mapped written " + map
                + " while its data write is still held");
        gate.openAll();
        join(fsync);
    }
}
