package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real, unmodified NBD clients against a node: qemu-io (qemu-utils), nbdcopy and nbdinfo
 * (libnbd-bin), fio's nbd engine (fio). Each test is skipped when its program is not installed
 * ({@link NbdTools}).
 */
class NbdInteropTest {
    static final long BIG = 256L << 20;
    static NbdFixture nbd;
    static NodeServer node;
    static Path scratch;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        nbd = NbdFixture.start(384L << 20, "nbd-interop"); // fio runs in its scratch directory
        node = nbd.node;
        scratch = nbd.scratch;
        base = nbd.base;
        try (NodeClient c = nbd.client()) {
            for (LockPolicy p : LockPolicy.values()) {
                FileId ino = c.create("qemu-" + p.cliName(), p, 0644, true).toCompletableFuture().get().file();
                c.fallocate(ino, 0, 4 << 20, false).toCompletableFuture().get();
            }
            FileId big = c.create("big", null, 0644, true).toCompletableFuture().get().file();
            c.truncate(big, BIG).toCompletableFuture().get();
            FileId f = c.create("fio", null, 0644, true).toCompletableFuture().get().file();
            c.fallocate(f, 0, 16 << 20, false).toCompletableFuture().get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (nbd != null) {
            nbd.close();
        }
    }

    static NbdTools.Run run(List<String> command) throws IOException, InterruptedException {
        return NbdTools.run(scratch, command);
    }

    static void assumeInstalled(String program) {
        NbdTools.assumeInstalled(program);
    }

    static NbdTools.Run qemuIo(String export, String... commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", base + export));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        return run(cmd);
    }

    @Test
    void qemuIoWritesAndReadsBackPatternsAlignedAndUnalignedUnderEveryPolicy() throws Exception {
        assumeInstalled("qemu-io");
        for (LockPolicy p : LockPolicy.values()) {
            NbdTools.Run r = qemuIo("qemu-" + p.cliName(),
                    "write -P 0xab 0 64k", "read -P 0xab 0 64k",
                    // the seed's Test 2 shape: 14336 bytes at +512, head and tail inside 4 KiB blocks
                    "write -P 0xcd 512 14336", "read -P 0xcd 512 14336", "read -P 0xab 0 512", "read -P 0xab 14848 50688",
                    // into unwritten blocks, 512-aligned but not 4 KiB-aligned
                    "write -P 0xef 1049088 7168", "read -P 0xef 1049088 7168", "read -P 0 1048576 512",
                    // below the minimum block size: qemu does the read-modify-write itself
                    "write -P 0x33 100 1000", "read -P 0x33 100 1000", "read -P 0xab 0 100",
                    "aio_write -P 0x11 2M 4k", "aio_write -P 0x22 3M 8k", "aio_flush",
                    "read -P 0x11 2M 4k", "read -P 0x22 3M 8k",
                    "write -z 128k 64k", "read -P 0 128k 64k", "discard 256k 64k", "read -P 0 256k 64k",
                    "write -f -P 0x44 512k 4k", "flush", "read -P 0x44 512k 4k");
            assertEquals(0, r.exit(), p + ":\n" + r.output());
            assertFalse(r.output().contains("verification failed"), r.output());
            assertFalse(r.output().toLowerCase().contains("error"), r.output());
        }
        NbdTools.Run bad = qemuIo("qemu-zeroing-aware", "read -P 0x55 0 4k");
        assertNotEquals(0, bad.exit(), "a wrong pattern is noticed: " + bad.output());
    }

    @Test
    void nbdcopyCopies256MiBInAndOutWithIdenticalBytes() throws Exception {
        assumeInstalled("nbdcopy");
        Path in = scratch.resolve("in.bin");
        Path out = scratch.resolve("out.bin");
        Random rnd = new Random(42);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream o = Files.newOutputStream(in)) {
            for (long n = 0; n < BIG; n += chunk.length) {
                rnd.nextBytes(chunk);
                o.write(chunk);
            }
        }
        NbdTools.Run up = run(List.of("nbdcopy", in.toString(), base + "big"));
        assertEquals(0, up.exit(), up.output());
        NbdTools.Run down = run(List.of("nbdcopy", base + "big", out.toString()));
        assertEquals(0, down.exit(), down.output());
        assertEquals(BIG, Files.size(out));
        assertEquals(-1L, Files.mismatch(in, out), "bytes differ");
        Files.delete(in);
        Files.delete(out);
    }

    @Test
    void nbdinfoListsExportsAndShowsBlockSizes() throws Exception {
        assumeInstalled("nbdinfo");
        NbdTools.Run list = run(List.of("nbdinfo", "--list", base));
        assertEquals(0, list.exit(), list.output());
        for (String name : List.of("big", "fio", "qemu-overwrite-check", "qemu-aligned-shared", "qemu-zeroing-aware")) {
            assertTrue(list.output().contains("export=\"" + name + "\""), list.output());
        }
        NbdTools.Run info = run(List.of("nbdinfo", base + "fio"));
        assertEquals(0, info.exit(), info.output());
        String o = info.output();
        int sector = node.volume().device().sectorSize();
        assertTrue(o.contains("export-size: " + (16 << 20)), o);
        assertTrue(o.contains("block_size_minimum: " + sector), o);
        assertTrue(o.contains("block_size_preferred: 4096"), o);
        assertTrue(o.contains("block_size_maximum: " + (8 << 20)), o);
        assertTrue(o.contains("can_multi_conn: true"), o);
        assertTrue(o.contains("can_fua: true") && o.contains("can_trim: true") && o.contains("can_zero: true"), o);
        NbdTools.Run unknown = run(List.of("nbdinfo", base + "no-such-export"));
        assertNotEquals(0, unknown.exit(), unknown.output());
        assertTrue(unknown.output().contains("server replied with error"), unknown.output());
    }

    @Test
    void fioNbdEngineWritesAndVerifies() throws Exception {
        assumeInstalled("fio");
        NbdTools.Run r = run(List.of("fio", "--name=verify", "--ioengine=nbd", "--uri=" + base + "fio", "--rw=randwrite", "--bs=4k",
                "--size=16M", "--iodepth=16", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0"));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("err= 0"), r.output());
        NbdTools.Run unaligned = run(List.of("fio", "--name=t2", "--ioengine=nbd", "--uri=" + base + "fio", "--rw=write:2048",
                "--bs=14336", "--offset=512", "--size=8M", "--io_size=1M", "--verify=crc32c", "--do_verify=1",
                "--verify_fatal=1", "--verify_state_save=0"));
        assertEquals(0, unaligned.exit(), unaligned.output());
    }
}
