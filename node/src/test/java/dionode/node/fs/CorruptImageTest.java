package dionode.node.fs;

import static dionode.node.crash.Fixture.B;
import static dionode.node.crash.Fixture.errno;
import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.node.crash.Population;
import dionode.node.crash.RawImage;
import dionode.node.device.FaultyNativeIO;
import dionode.node.extent.Extent;
import dionode.node.extent.ExtentFormat;
import dionode.node.inode.RecordingDataPath;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.Layout;
import dionode.node.server.NodeServer;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * The corruption matrix of issue 4 on crafted device images. A small valid image (files
 * {@code good}, {@code victim}, {@code neighbor} with inline extents, and {@code big} with 2000
 * extents in a multi-level tree of extent blocks) is stopped cleanly; each case edits a copy of it
 * byte by byte through the format classes, recomputing checksums where the point is metadata that
 * is well-formed and checksummed but malicious (an extent into the inode table or the journal, past
 * the device end, over another file's blocks; an index pointing at a metadata block), and not
 * where the point is the checksum. Every case must be refused: the file answers EFSCORRUPTED to
 * every request while the others keep working, fsck names the problem, no device I/O of the data
 * path ever touches a block outside the data area or the malicious range, and no request ends
 * in anything but an errno reply. Broken superblocks and bitmaps stop the node at start with a
 * message that says what was found.
 */
@Timeout(300)
class CorruptImageTest {
    private static final long SIZE = 32 * Fixture.MIB;
    private static Path image;
    private static Layout layout;
    private static final List<Path> copies = new ArrayList<>();
    private static final Map<String, byte[]> DATA = new java.util.HashMap<>();
    /** The handle of each file of the base image, by inode number. */
    private static final Map<Long, FileId> HANDLES = new java.util.HashMap<>();
    private static long good;
    private static long victim;
    private static long neighbor;
    private static long big;

    @BeforeAll
    static void build() throws Exception {
        image = Fixture.newDevice("corrupt-base");
        Random rnd = new Random(6);
        try (NodeServer node = Fixture.start(Fixture.config(image, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                NodeClient c = Fixture.client(node)) {
            good = file(c, "good", Population.bytes(rnd, 4 * B));
            victim = file(c, "victim", Population.bytes(rnd, 8 * B));
            neighbor = file(c, "neighbor", Population.bytes(rnd, 4 * B));
            FileId bigFile = join(c.create("big", null, 0644, true)).file();
            big = bigFile.ino();
            HANDLES.put(big, bigFile);
            Population.manyExtents(c, bigFile, 1000, rnd);
            join(c.fsync(bigFile));
        }
        try (RawImage r = new RawImage(image)) {
            layout = r.layout();
            assertTrue(ExtentFormat.depth(record(r, big).root(), 0) >= 2, "big has a multi-level extent tree");
            assertEquals(1, ExtentFormat.entries(record(r, victim).root(), 0));
        }
        assertEquals(List.of(), Fixture.fsck(image));
    }

    private static long file(NodeClient c, String name, byte[] data) {
        FileId file = join(c.create(name, null, 0644, true)).file();
        join(c.write(file, 0, data, 0));
        DATA.put(name, data);
        HANDLES.put(file.ino(), file);
        return file.ino();
    }

    static FileId handle(long ino) {
        return HANDLES.get(ino);
    }

    @AfterAll
    static void remove() {
        Fixture.deleteQuietly(image);
        copies.forEach(Fixture::deleteQuietly);
    }

    // ------------------------------------------------------------------ image editing

    static InodeRecord record(RawImage r, long ino) throws IOException {
        byte[] blk = r.read(r.layout().inodeBlock(ino));
        return InodeRecord.decode(blk, r.layout().inodeOffset(ino), ino);
    }

    /** Rewrites an inode's record with an edited root and any field changes, CRC recomputed. */
    static void editRecord(RawImage r, long ino, Consumer<byte[]> rootEdit, java.util.function.UnaryOperator<InodeRecord> fields)
            throws IOException {
        long home = r.layout().inodeBlock(ino);
        byte[] blk = r.read(home);
        InodeRecord rec = InodeRecord.decode(blk, r.layout().inodeOffset(ino), ino);
        byte[] root = rec.root().clone();
        rootEdit.accept(root);
        InodeRecord n = fields.apply(new InodeRecord(rec.ino(), rec.flags(), rec.mode(), rec.generation(), rec.policy(), rec.size(),
                rec.disksize(), rec.blocks(), rec.mtimeNanos(), rec.ctimeNanos(), rec.crtimeNanos(), root, rec.name(), rec.owner()));
        n.encodeInto(blk, r.layout().inodeOffset(ino));
        r.write(home, blk);
    }

    static void editRoot(RawImage r, long ino, Consumer<byte[]> rootEdit) throws IOException {
        editRecord(r, ino, rootEdit, x -> x);
    }

    /** Offset of entry {@code i} of a node whose header is at {@code base}. */
    static int entry(int base, int i) {
        return base + ExtentFormat.HEADER_BYTES + i * ExtentFormat.ENTRY_BYTES;
    }

    static void setLeaf(byte[] b, int base, int i, long lblk, int rawLen, long pblk) {
        int o = entry(base, i);
        RawImage.u32(b, o, lblk);
        RawImage.u16(b, o + 4, rawLen);
        RawImage.u16(b, o + 6, (int) (pblk >>> 32));
        RawImage.u32(b, o + 8, pblk);
    }

    static void setPblk(byte[] b, int base, int i, long pblk) {
        int o = entry(base, i);
        RawImage.u16(b, o + 6, (int) (pblk >>> 32));
        RawImage.u32(b, o + 8, pblk);
    }

    static void setChild(byte[] b, int base, int i, long child) {
        int o = entry(base, i);
        RawImage.u32(b, o + 4, child);
        RawImage.u16(b, o + 8, (int) (child >>> 32));
    }

    static Extent leaf(byte[] b, int i) {
        return ExtentFormat.leaf(b, 0, i);
    }

    /** The first leaf block of big's tree (following first children from the root). */
    static long firstLeaf(RawImage r) throws IOException {
        byte[] root = record(r, big).root();
        long blk = ExtentFormat.child(root, 0, 0);
        while (true) {
            byte[] n = r.read(blk);
            if (ExtentFormat.depth(n, 0) == 0) {
                return blk;
            }
            blk = ExtentFormat.child(n, 0, 0);
        }
    }

    /** Edits an extent block of big's tree and reseals it (a checksummed but malicious node). */
    static void editNode(RawImage r, long blk, Consumer<byte[]> edit, boolean reseal) throws IOException {
        byte[] n = r.read(blk);
        edit.accept(n);
        if (reseal) {
            ExtentFormat.seal(big, blk, n);
        }
        r.write(blk, n);
    }

    @FunctionalInterface
    interface Edit {
        void apply(RawImage r) throws IOException;
    }

    static Path copy(String name, Edit edit) throws IOException {
        Path p = image.resolveSibling(image.getFileName() + "-" + name);
        Files.copy(image, p, StandardCopyOption.REPLACE_EXISTING);
        copies.add(p);
        try (RawImage r = new RawImage(p)) {
            edit.apply(r);
        }
        return p;
    }

    // ------------------------------------------------------------------ checks

    /**
     * One corruption: what to break, which inodes it must make bad, what fsck calls it, the forbidden
     * device blocks. {@code fsckOnly}: a claim across files (an extent over another file's data or
     * extent block) that only a walk of every tree can see, as in ext4 (e2fsck, not the kernel): the
     * serving node reads no extent block at mount (DESIGN §3), so it neither refuses those files nor
     * serves them as sound; fsck must still name them.
     */
    record Case(String name, Edit edit, List<Long> bad, String kind, long[] forbiddenBlocks, boolean fsckOnly) {
        Case(String name, Edit edit, List<Long> bad, String kind, long[] forbiddenBlocks) {
            this(name, edit, bad, kind, forbiddenBlocks, false);
        }
    }

    /** Every request a client can make of the bad inode: each must be EFSCORRUPTED, none an exception. */
    static void everyRequestIsCorrupt(NodeClient c, long inode, String name) {
        FileId ino = handle(inode);
        List<java.util.function.Supplier<java.util.concurrent.CompletionStage<?>>> reqs = List.of(
                () -> c.read(ino, 0, 4 * B, 0),
                () -> c.read(ino, 0, 4 * B, IoFlags.BUFFERED),
                () -> c.write(ino, 0, new byte[B], 0),
                () -> c.write(ino, 512, new byte[512], IoFlags.DURABLE),
                () -> c.write(ino, 1 << 30, new byte[B], 0),
                () -> c.stat(ino),
                () -> c.fiemap(ino, 0, 0),
                () -> c.fsync(ino),
                () -> c.truncate(ino, 0),
                () -> c.truncate(ino, 1 << 30),
                () -> c.punchHole(ino, 0, 4 * B),
                () -> c.fallocate(ino, 0, 64 * B, false),
                () -> c.zeroRange(ino, 0, 4 * B, true),
                () -> c.chmod(ino, 04755),
                () -> c.unlink(name));
        for (int i = 0; i < reqs.size(); i++) {
            assertEquals(Errno.EFSCORRUPTED, errno(reqs.get(i).get()), "request " + i + " to corrupt inode " + ino);
        }
        assertEquals(ino, join(c.lookup(name)).file(), "a refused unlink leaves the name");
    }

    static void stillWorks(NodeClient c, String name) {
        FileId ino = join(c.lookup(name)).file();
        byte[] d = DATA.get(name);
        assertArrayEquals(d, Fixture.read(c, ino, 0, d.length));
        byte[] more = new byte[2 * B];
        new Random(name.hashCode()).nextBytes(more);
        join(c.write(ino, d.length, more, IoFlags.DURABLE));
        assertArrayEquals(more, Fixture.read(c, ino, d.length, more.length));
    }

    private static boolean overlaps(long[] r, long fromByte, long toByte) {
        return r[0] < toByte && fromByte < r[1];
    }

    static void run(Case k) throws Exception {
        Path dev = copy(k.name, k.edit);
        // fsck sees it, names it, exits non-zero
        List<Problem> found = Fixture.fsck(dev);
        for (long ino : k.bad) {
            assertTrue(found.stream().anyMatch(p -> p.ino() == ino && p.kind().equals(k.kind)),
                    k.name + ": fsck reports " + k.kind + " for inode " + ino + ": " + found);
        }
        if (k.bad.isEmpty()) {
            assertTrue(found.stream().anyMatch(p -> p.kind().equals(k.kind)), k.name + ": " + found);
        }
        FsckResult cli = FsckResult.run(dev);
        assertEquals(1, cli.exit(), k.name + ": fsck exit status\n" + cli.out());
        assertTrue(cli.out().contains("\"kind\":\"" + k.kind + "\""), cli.out());
        // the node serves the rest and refuses the bad files
        FaultyNativeIO io = new FaultyNativeIO(Fixture.JNA);
        RecordingDataPath[] rec = new RecordingDataPath[1];
        List<long[]> deviceIo = new CopyOnWriteArrayList<>();
        long fresh;
        try (NodeServer node = Fixture.start(Fixture.config(dev, SIZE, Duration.ofMillis(200)), io,
                real -> rec[0] = new RecordingDataPath(real)); NodeClient c = Fixture.client(node)) {
            io.hook((op, fd, off, count) -> {
                if (op == FaultyNativeIO.Op.PREAD || op == FaultyNativeIO.Op.PWRITE) {
                    deviceIo.add(new long[] {off, off + count, op == FaultyNativeIO.Op.PWRITE ? 1 : 0});
                }
            });
            for (long ino : k.fsckOnly ? List.<Long>of() : k.bad) {
                String name = ino == good ? "good" : ino == victim ? "victim" : ino == neighbor ? "neighbor" : "big";
                everyRequestIsCorrupt(c, ino, name);
            }
            for (String name : List.of("good", "victim", "neighbor")) {
                long ino = name.equals("good") ? good : name.equals("victim") ? victim : neighbor;
                if (!k.bad.contains(ino)) {
                    stillWorks(c, name);
                }
            }
            // a new file can be filled without ever being given a block a bad file claims
            FileId freshFile = join(c.create("fresh-" + k.name, null, 0644, true)).file();
            fresh = freshFile.ino();
            join(c.write(freshFile, 0, new byte[256 * B], IoFlags.DURABLE));
            join(c.stats());
        }
        long dataStartByte = layout.dataStart() * B;
        long endByte = layout.totalBlocks() * B;
        for (long[] r : rec[0].ranges) {
            assertFalse(overlaps(r, 0, dataStartByte), k.name + ": data path I/O in the metadata area at " + r[0]);
            assertFalse(overlaps(r, endByte, Long.MAX_VALUE), k.name + ": data path I/O past the device end at " + r[0]);
            if (k.forbiddenBlocks != null) {
                assertFalse(overlaps(r, k.forbiddenBlocks[0] * B, k.forbiddenBlocks[1] * B),
                        k.name + ": data path I/O in the forbidden blocks at " + r[0]);
            }
        }
        for (long[] r : deviceIo) {
            assertFalse(overlaps(r, endByte, Long.MAX_VALUE), k.name + ": device I/O past the end at " + r[0]);
            // metadata blocks are written by the journal all the time; in the data area, only the owner writes
            if (k.forbiddenBlocks != null && k.forbiddenBlocks[0] >= layout.dataStart()) {
                assertFalse(r[2] == 1 && overlaps(r, k.forbiddenBlocks[0] * B, k.forbiddenBlocks[1] * B),
                        k.name + ": a write to the forbidden blocks at " + r[0]);
            }
        }
        // the corruption is reported, not silently "repaired", after the node ran on it
        List<Problem> again = Fixture.fsck(dev);
        assertTrue(again.stream().anyMatch(p -> p.kind().equals(k.kind)), k.name + " after serving: " + again);
        assertTrue(again.stream().noneMatch(p -> p.ino() == fresh), k.name + ": the new file is sound: " + again);
    }

    @Test
    void duplicateNameMakesTheSecondInodeCorruptAndKeepsTheFirst() throws Exception {
        Path dev = copy("duplicate-name", r -> editRecord(r, neighbor, root -> { }, x -> new InodeRecord(x.ino(), x.flags(),
                x.mode(), x.generation(), x.policy(), x.size(), x.disksize(), x.blocks(), x.mtimeNanos(), x.ctimeNanos(),
                x.crtimeNanos(), x.root(), "victim", x.owner())));
        assertTrue(Fixture.fsck(dev).stream().anyMatch(p -> p.ino() == neighbor && p.kind().equals("duplicate-name")));
        assertEquals(1, FsckResult.run(dev).exit());
        try (NodeServer node = Fixture.start(Fixture.config(dev, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                NodeClient c = Fixture.client(node)) {
            stillWorks(c, "victim");
            assertEquals(handle(victim), join(c.lookup("victim")).file());
            assertEquals(Errno.ENOENT, errno(c.lookup("neighbor")));
            assertEquals(Errno.EFSCORRUPTED, errno(c.read(handle(neighbor), 0, B, 0)));
            assertEquals(Errno.EFSCORRUPTED, errno(c.write(handle(neighbor), 0, new byte[B], 0)));
            stillWorks(c, "good");
        }
    }

    /** Runs FsckCommand as the CLI does, capturing what it prints. */
    record FsckResult(int exit, String out) {
        /** {@code fsck --device DEV --json EXTRA...}. */
        static FsckResult run(Path dev, String... extra) {
            List<String> args = new ArrayList<>(List.of("--device", dev.toString(), "--json"));
            args.addAll(List.of(extra));
            return execute(args.toArray(String[]::new));
        }

        /** {@code fsck --device DEV}: the text report. */
        static FsckResult runText(Path dev) {
            return execute("--device", dev.toString());
        }

        private static FsckResult execute(String... args) {
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            java.io.PrintStream old = System.out;
            int code;
            synchronized (FsckResult.class) {
                System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
                try {
                    code = new picocli.CommandLine(new dionode.cli.FsckCommand()).execute(args);
                } finally {
                    System.setOut(old);
                }
            }
            return new FsckResult(code, buf.toString(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    // ------------------------------------------------------------------ the matrix

    @TestFactory
    Stream<DynamicTest> corruptionMatrix() throws Exception {
        long lastTableBlock = layout.inodeTableStart() + layout.inodeTableBlocks() - 1;
        long journalBlock = layout.journalStart() + layout.journalBlocks() / 2;
        long end = layout.totalBlocks();
        long victimPblk;
        long neighborPblk;
        long goodPblk;
        long leafBlk;
        long leaf0Pblk;
        long indexBlk;
        try (RawImage r = new RawImage(image)) {
            indexBlk = ExtentFormat.child(record(r, big).root(), 0, 0);
            byte[] idx = r.read(indexBlk);
            assertTrue(ExtentFormat.depth(idx, 0) >= 1 && ExtentFormat.entries(idx, 0) >= 2, "an index node with children");
            victimPblk = leaf(record(r, victim).root(), 0).pblk();
            neighborPblk = leaf(record(r, neighbor).root(), 0).pblk();
            goodPblk = leaf(record(r, good).root(), 0).pblk();
            leafBlk = firstLeaf(r);
            leaf0Pblk = ExtentFormat.leaf(r.read(leafBlk), 0, 0).pblk();
        }
        List<Case> cases = List.of(
                new Case("extent-into-inode-table", r -> editRoot(r, victim, root -> setPblk(root, 0, 0, lastTableBlock)),
                        List.of(victim), "bad-extent-tree", new long[] {lastTableBlock, lastTableBlock + 8}),
                new Case("extent-into-journal", r -> editRoot(r, victim, root -> setPblk(root, 0, 0, journalBlock)),
                        List.of(victim), "bad-extent-tree", new long[] {journalBlock, journalBlock + 8}),
                new Case("extent-into-superblock", r -> editRoot(r, victim, root -> setPblk(root, 0, 0, 0)),
                        List.of(victim), "bad-extent-tree", new long[] {0, 8}),
                new Case("extent-into-bitmap", r -> editRoot(r, victim, root -> setPblk(root, 0, 0, layout.bitmapStart())),
                        List.of(victim), "bad-extent-tree", new long[] {layout.bitmapStart(), layout.bitmapStart() + 1}),
                new Case("extent-past-device-end", r -> editRoot(r, victim, root -> setPblk(root, 0, 0, end - 3)),
                        List.of(victim), "bad-extent-tree", new long[] {end - 3, end + 8}),
                new Case("extent-far-past-device-end", r -> editRoot(r, victim, root -> setPblk(root, 0, 0, (1L << 47) + 5)),
                        List.of(victim), "bad-extent-tree", null),
                new Case("extent-over-another-file", r -> editRoot(r, victim, root -> setPblk(root, 0, 0, neighborPblk)),
                        List.of(victim, neighbor), "double-allocation", null),
                new Case("extent-over-another-files-extent-block", r -> editRoot(r, victim, root -> setPblk(root, 0, 0, leafBlk)),
                        List.of(victim), "double-allocation", new long[] {leafBlk, leafBlk + 1}, true),
                new Case("extent-zero-length", r -> editRoot(r, victim, root -> RawImage.u16(root, entry(0, 0) + 4, 0)),
                        List.of(victim), "bad-extent-tree", null),
                new Case("extent-lblk-overflow", r -> editRoot(r, victim, root -> RawImage.u32(root, entry(0, 0), 0xFFFF_FFFEL)),
                        List.of(victim), "bad-extent-tree", null),
                new Case("root-bad-magic", r -> editRoot(r, victim, root -> RawImage.u16(root, 0, 0x1234)),
                        List.of(victim), "bad-extent-tree", null),
                new Case("root-bad-depth", r -> editRoot(r, victim, root -> RawImage.u16(root, 6, 9)),
                        List.of(victim), "bad-extent-tree", null),
                new Case("root-too-many-entries", r -> editRoot(r, victim, root -> RawImage.u16(root, 2, 5)),
                        List.of(victim), "bad-extent-tree", null),
                new Case("root-leaf-posing-as-index", r -> editRoot(r, victim, root -> RawImage.u16(root, 6, 1)),
                        List.of(victim), "bad-extent-tree", null),
                new Case("index-keys-out-of-order-resealed", r -> editNode(r, indexBlk, n -> {
                    // the second child's range before the first's
                    long k0 = RawImage.u32(n, entry(0, 0));
                    RawImage.u32(n, entry(0, 0), RawImage.u32(n, entry(0, 1)));
                    RawImage.u32(n, entry(0, 1), k0);
                }, true), List.of(big), "bad-extent-tree", null),
                new Case("index-node-child-into-inode-table-resealed", r -> editNode(r, indexBlk,
                        n -> setChild(n, 0, 1, layout.inodeTableStart() + 1), true),
                        List.of(big), "bad-extent-tree", null),
                new Case("index-into-bitmap", r -> editRoot(r, big, root -> setChild(root, 0, 0, layout.bitmapStart())),
                        List.of(big), "bad-extent-tree", new long[] {layout.bitmapStart(), layout.bitmapStart() + 1}),
                new Case("index-into-inode-table", r -> editRoot(r, big, root -> setChild(root, 0, 0, layout.inodeTableStart())),
                        List.of(big), "bad-extent-tree", new long[] {layout.inodeTableStart(), layout.inodeTableStart() + 1}),
                new Case("index-into-journal", r -> editRoot(r, big, root -> setChild(root, 0, 0, journalBlock)),
                        List.of(big), "bad-extent-tree", new long[] {journalBlock, journalBlock + 1}),
                new Case("index-past-device-end", r -> editRoot(r, big, root -> setChild(root, 0, 0, end + 100)),
                        List.of(big), "bad-extent-tree", null),
                new Case("index-into-another-files-data", r -> editRoot(r, big, root -> setChild(root, 0, 0, goodPblk)),
                        List.of(big), "bad-extent-tree", null),
                new Case("index-twice-to-one-node-resealed", r -> editNode(r, indexBlk,
                        n -> setChild(n, 0, 1, ExtentFormat.child(n, 0, 0)), true),
                        List.of(big), "bad-extent-tree", null),
                new Case("node-flipped-byte", r -> editNode(r, leafBlk, n -> n[100] ^= 0x40, false),
                        List.of(big), "bad-extent-tree", null),
                new Case("node-bad-magic-resealed", r -> editNode(r, leafBlk, n -> RawImage.u16(n, 0, 0xBEEF), true),
                        List.of(big), "bad-extent-tree", null),
                new Case("node-bad-depth-resealed", r -> editNode(r, leafBlk, n -> RawImage.u16(n, 6, 3), true),
                        List.of(big), "bad-extent-tree", null),
                new Case("node-too-many-entries-resealed", r -> editNode(r, leafBlk, n -> RawImage.u16(n, 2, 400), true),
                        List.of(big), "bad-extent-tree", null),
                new Case("node-of-another-inode", r -> {
                    // a valid node block, but sealed for another inode: a misdirected or copied block
                    editNode(r, leafBlk, n -> { }, false);
                    byte[] n = r.read(leafBlk);
                    ExtentFormat.seal(good, leafBlk, n);
                    r.write(leafBlk, n);
                }, List.of(big), "bad-extent-tree", null),
                new Case("node-extent-into-inode-table-resealed", r -> editNode(r, leafBlk,
                        n -> setPblk(n, 0, 0, layout.inodeTableStart()), true),
                        List.of(big), "bad-extent-tree", new long[] {layout.inodeTableStart(), layout.inodeTableStart() + 1}),
                new Case("node-extent-into-journal-resealed", r -> editNode(r, leafBlk, n -> setPblk(n, 0, 1, journalBlock), true),
                        List.of(big), "bad-extent-tree", new long[] {journalBlock, journalBlock + 1}),
                new Case("node-extents-overlap-in-one-file", r -> editNode(r, leafBlk, n -> setPblk(n, 0, 2, leaf0Pblk), true),
                        List.of(big), "double-allocation", null),
                new Case("node-extent-over-another-file", r -> editNode(r, leafBlk, n -> setPblk(n, 0, 0, goodPblk), true),
                        List.of(big, good), "double-allocation", null, true),
                new Case("node-unwritten-length-overflow", r -> editNode(r, leafBlk,
                        n -> RawImage.u16(n, entry(0, 0) + 4, 0xFFFF), true),
                        List.of(big), "bad-extent-tree", null),
                new Case("inode-crc", r -> r.flip(r.layout().inodeBlock(victim), r.layout().inodeOffset(victim) + 20),
                        List.of(victim), "bad-inode", null),
                new Case("inode-impossible-disksize", r -> editRecord(r, victim, root -> { }, x -> new InodeRecord(x.ino(), x.flags(),
                        x.mode(), x.generation(), x.policy(), x.size(), x.size() + 1, x.blocks(), x.mtimeNanos(), x.ctimeNanos(),
                        x.crtimeNanos(), x.root(), x.name(), x.owner())), List.of(victim), "bad-inode", null),
                new Case("free-slot-with-data", r -> {
                    long ino = r.layout().inodeCount();
                    byte[] blk = r.read(r.layout().inodeBlock(ino));
                    blk[r.layout().inodeOffset(ino) + 40] = 7;
                    r.write(r.layout().inodeBlock(ino), blk);
                }, List.of(), "bad-inode", null),
                new Case("bitmap-says-free-resealed", r -> {
                    long bit = victimPblk;
                    long home = r.layout().bitmapStart() + bit / Layout.BITS_PER_BITMAP_BLOCK;
                    byte[] b = r.read(home);
                    int i = (int) (bit % Layout.BITS_PER_BITMAP_BLOCK);
                    b[i >>> 3] &= (byte) ~(1 << (i & 7));
                    dionode.node.alloc.BlockAllocator.seal(home, b);
                    r.write(home, b);
                }, List.of(victim), "free-block-in-use", null));
        return cases.stream().map(k -> DynamicTest.dynamicTest(k.name, () -> run(k)));
    }

    @Test
    void aRootWithABadHeaderIsNeverFollowed() throws Exception {
        long goodPblk;
        try (RawImage r = new RawImage(image)) {
            goodPblk = leaf(record(r, good).root(), 0).pblk();
        }
        long target = goodPblk;
        Path dev = copy("root-garbage-index", r -> editRoot(r, victim, root -> {
            RawImage.u16(root, 0, 0x1234); // bad magic
            RawImage.u16(root, 6, 1); // depth 1: "index" entries
            setChild(root, 0, 0, target);
        }));
        FaultyNativeIO io = new FaultyNativeIO(Fixture.JNA);
        List<Long> reads = new CopyOnWriteArrayList<>();
        io.hook((op, fd, off, count) -> {
            if (op == FaultyNativeIO.Op.PREAD && off <= target * B && target * B < off + count) {
                reads.add(off);
            }
        });
        try (NodeServer node = Fixture.start(Fixture.config(dev, SIZE, Duration.ofMillis(200)), io)) {
            io.hook(null);
            assertEquals(List.of(), reads, "mount read another file's block as an extent node of a root with a bad magic");
            try (NodeClient c = Fixture.client(node)) {
                everyRequestIsCorrupt(c, victim, "victim");
                stillWorks(c, "good");
            }
        }
    }

    @Test
    void writtenBlocksPastEofOffTheOrphanListAreReported() throws Exception {
        Path dev = copy("written-past-eof", r -> editRecord(r, victim, root -> { }, x -> new InodeRecord(x.ino(), x.flags(),
                x.mode(), x.generation(), x.policy(), B, B, x.blocks(), x.mtimeNanos(), x.ctimeNanos(), x.crtimeNanos(),
                x.root(), x.name(), x.owner())));
        assertTrue(Fixture.fsck(dev).stream().anyMatch(p -> p.ino() == victim && p.kind().equals("written-past-eof")),
                Fixture.fsck(dev).toString());
        assertEquals(1, FsckResult.run(dev).exit());
        // on the orphan list it is an interrupted extending write: mount trims it, and all is clean
        Path orphan = copy("written-past-eof-orphan", r -> editRecord(r, victim, root -> { }, x -> new InodeRecord(x.ino(),
                x.flags() | InodeRecord.FLAG_ORPHAN, x.mode(), x.generation(), x.policy(), B, B, x.blocks(), x.mtimeNanos(),
                x.ctimeNanos(), x.crtimeNanos(), x.root(), x.name(), x.owner())));
        assertEquals(List.of(), Fixture.fsck(orphan));
        Fixture.mountAndUnmount(orphan);
        assertEquals(List.of(), Fixture.fsck(orphan));
        try (NodeServer node = Fixture.start(Fixture.config(orphan, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                NodeClient c = Fixture.client(node)) {
            assertEquals(1, join(c.stat(handle(victim))).blocks());
            assertArrayEquals(java.util.Arrays.copyOf(DATA.get("victim"), B), Fixture.read(c, handle(victim), 0, B));
        }
    }

    @Test
    void blockCountMismatchIsReportedAndTheFileStillServed() throws Exception {
        Path dev = copy("block-count", r -> editRecord(r, victim, root -> { }, x -> new InodeRecord(x.ino(), x.flags(), x.mode(),
                x.generation(), x.policy(), x.size(), x.disksize(), x.blocks() + 3, x.mtimeNanos(), x.ctimeNanos(),
                x.crtimeNanos(), x.root(), x.name(), x.owner())));
        assertTrue(Fixture.fsck(dev).stream().anyMatch(p -> p.ino() == victim && p.kind().equals("block-count")));
        assertEquals(1, FsckResult.run(dev).exit());
    }

    // ------------------------------------------------------------------ fatal: superblock, bitmap

    static String refusal(Path dev) {
        try (NodeServer node = Fixture.start(Fixture.config(dev, SIZE, Duration.ofMillis(200)), Fixture.JNA)) {
            throw new AssertionError("the node started on a broken image: " + node.address());
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    private static void fatal(String name, Edit edit, String... expect) throws Exception {
        Path dev = copy(name, edit);
        String why = refusal(dev);
        assertNotNull(why);
        for (String e : expect) {
            assertTrue(why.contains(e), name + ": the refusal names what it found: " + why);
        }
        FsckResult cli = FsckResult.run(dev);
        assertEquals(8, cli.exit(), cli.out());
        assertTrue(cli.out().contains("\"kind\":\"unmountable\""), cli.out());
    }

    @Test
    void superblockGarbageIsRefusedNamingWhatWasFound() throws Exception {
        fatal("sb-garbage", r -> {
            byte[] b = new byte[B];
            new Random(1).nextBytes(b);
            b[0] = 0x7F;
            b[1] = 'E';
            b[2] = 'L';
            b[3] = 'F';
            r.write(0, b);
        }, "not a dionode device", "7f454c46");
        fatal("sb-zeros", r -> r.write(0, new byte[B]), "zeros (an unformatted device)");
        fatal("sb-crc", r -> r.flip(0, 300), "checksum mismatch");
        fatal("sb-version", r -> {
            byte[] b = r.read(0);
            RawImage.u32(b, 8, dionode.node.meta.Superblock.VERSION + 1);
            RawImage.u32(b, B - 4, crc0(b));
            r.write(0, b);
        }, "version " + (dionode.node.meta.Superblock.VERSION + 1));
        fatal("sb-layout-bigger-than-device", r -> {
            byte[] b = r.read(0);
            b[24 + 3] = 1; // total blocks * 16M
            RawImage.u32(b, B - 4, crc0(b));
            r.write(0, b);
        }, "impossible layout");
        fatal("sb-regions-overlap", r -> {
            byte[] b = r.read(0);
            b[48] = (byte) (b[48] - 1); // inode table starts inside the journal
            RawImage.u32(b, B - 4, crc0(b));
            r.write(0, b);
        }, "impossible layout");
    }

    @Test
    void superblockWithOverflowingSizesIsRefusedNotAnOutOfMemory() throws Exception {
        // 2^52 blocks of 4096 bytes overflow a long to 0 bytes; every other field made consistent
        fatal("sb-overflow", r -> {
            byte[] b = r.read(0);
            long total = 1L << 52;
            long bitmaps = (total + Layout.BITS_PER_BITMAP_BLOCK - 1) / Layout.BITS_PER_BITMAP_BLOCK;
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            bb.putLong(24, total);
            bb.putLong(72, bitmaps);
            bb.putLong(80, bb.getLong(64) + bitmaps);
            RawImage.u32(b, B - 4, crc0(b));
            r.write(0, b);
        }, "impossible layout");
        // a journal so long that the regions after it wrap round to negative block numbers
        fatal("sb-wrapping-regions", r -> {
            byte[] b = r.read(0);
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            long journal = Long.MAX_VALUE;
            long table = 1 + journal; // wraps
            long tableBlocks = bb.getLong(56) / Layout.INODES_PER_BLOCK;
            bb.putLong(40, journal);
            bb.putLong(48, table);
            bb.putLong(64, table + tableBlocks);
            bb.putLong(80, table + tableBlocks + bb.getLong(72));
            RawImage.u32(b, B - 4, crc0(b));
            r.write(0, b);
        }, "impossible layout");
    }

    private static int crc0(byte[] b) {
        return dionode.node.meta.Bytes.crc(0, b, 0, B - 4);
    }

    @Test
    void bitmapChecksumIsRefusedAtStart() throws Exception {
        fatal("bitmap-crc", r -> r.flip(r.layout().bitmapStart(), 7), "allocation bitmap block", "checksum mismatch");
    }

    // ------------------------------------------------------------------ fsck on clean images

    @Test
    void fsckOfTheCleanImageExitsZeroWithItsJsonShape() {
        FsckResult r = FsckResult.run(image);
        assertEquals(0, r.exit(), r.out());
        String json = r.out().trim();
        assertTrue(json.matches("\\{\"device\":\".*\",\"clean\":true,\"files\":4,\"state\":\"clean\","
                + "\"last_mount\":\"[0-9T:.Z-]+\",\"mounts\":1,\"unclean_mounts\":0,\"volume\":\"[0-9a-f-]{36}\","
                + "\"problems\":\\[\\]\\}"), json);
        FsckResult text = FsckResult.runText(image);
        assertEquals(0, text.exit());
        assertTrue(text.out().contains("clean, 4 files"), text.out());
    }

    @Test
    void fsckJsonListsEveryProblemWithInodeKindAndDetail() throws Exception {
        Path dev = copy("json-shape", r -> {
            editRoot(r, victim, root -> setPblk(root, 0, 0, layout.inodeTableStart()));
            r.flip(r.layout().inodeBlock(neighbor), r.layout().inodeOffset(neighbor) + 20);
        });
        FsckResult res = FsckResult.run(dev);
        assertEquals(1, res.exit());
        String json = res.out().trim();
        assertTrue(json.startsWith("{\"device\":") && json.contains("\"clean\":false"), json);
        assertTrue(json.matches(".*\"problems\":\\[\\{\"ino\":\\d+,\"kind\":\"[a-z-]+\",\"detail\":\".*\"}.*\\]}"), json);
        assertTrue(json.contains("{\"ino\":" + victim + ",\"kind\":\"bad-extent-tree\""), json);
        assertTrue(json.contains("{\"ino\":" + neighbor + ",\"kind\":\"bad-inode\""), json);
        FsckResult text = FsckResult.runText(dev);
        assertEquals(1, text.exit());
        assertTrue(text.out().contains("inode " + victim + ": bad-extent-tree:"), text.out());
        assertTrue(text.out().contains("2 problems"), text.out());
    }
}
