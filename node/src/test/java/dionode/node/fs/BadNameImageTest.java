package dionode.node.fs;

import static dionode.node.crash.Fixture.B;
import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.node.crash.RawImage;
import dionode.node.meta.Bytes;
import dionode.node.meta.Layout;
import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * Stored names no request could have made ('/', NUL, '.', '..', empty, bytes that are not UTF-8)
 * are corruption: fsck reports {@code bad-name} for the inode and exits 1, and the node leaves the
 * file out of the namespace while it serves the others. Each case rewrites one record's name bytes
 * in a copy of a clean image, checksum recomputed, so only the name is wrong.
 */
@Timeout(300)
class BadNameImageTest {
    private static final long SIZE = 32 * Fixture.MIB;
    /** Offsets in an inode record (see the diagram on InodeRecord). */
    private static final int OFF_NAMELEN = 13;
    private static final int OFF_NAME = 124;
    private static final int OFF_CRC = Layout.INODE_BYTES - 4;

    private static Path image;
    private static FileId good;
    private static FileId victim;
    private static final byte[] GOOD_DATA = new byte[4 * B];
    private static final List<Path> copies = new ArrayList<>();

    @BeforeAll
    static void build() throws Exception {
        image = Fixture.newDevice("bad-name-base");
        java.util.Arrays.fill(GOOD_DATA, (byte) 0x3c);
        try (NodeServer node = Fixture.start(image, SIZE); NodeClient c = Fixture.client(node)) {
            good = join(c.create("good", null, 0644, true)).file();
            join(c.write(good, 0, GOOD_DATA, 0));
            victim = join(c.create("victim", null, 0644, true)).file();
            join(c.write(victim, 0, new byte[2 * B], 0));
        }
        assertEquals(List.of(), Fixture.fsck(image));
    }

    @AfterAll
    static void remove() {
        Fixture.deleteQuietly(image);
        copies.forEach(Fixture::deleteQuietly);
    }

    /** A copy of the image whose victim record stores {@code name} (any bytes), resealed. */
    private static Path withVictimName(String caseName, byte[] name) throws Exception {
        Path p = image.resolveSibling(image.getFileName() + "-" + caseName);
        Files.copy(image, p, StandardCopyOption.REPLACE_EXISTING);
        copies.add(p);
        try (RawImage r = new RawImage(p)) {
            long home = r.layout().inodeBlock(victim.ino());
            int off = r.layout().inodeOffset(victim.ino());
            byte[] blk = r.read(home);
            java.util.Arrays.fill(blk, off + OFF_NAME, off + OFF_CRC, (byte) 0);
            blk[off + OFF_NAMELEN] = (byte) name.length;
            System.arraycopy(name, 0, blk, off + OFF_NAME, name.length);
            RawImage.u32(blk, off + OFF_CRC, Bytes.crc(victim.ino(), blk, off, OFF_CRC));
            r.write(home, blk);
        }
        return p;
    }

    private static byte[] bytes(int... b) {
        byte[] a = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            a[i] = (byte) b[i];
        }
        return a;
    }

    private static void refused(String caseName, byte[] name, String why) throws Exception {
        Path dev = withVictimName(caseName, name);
        List<Problem> found = Fixture.fsck(dev);
        assertTrue(found.stream().anyMatch(p -> p.ino() == victim.ino() && p.kind().equals("bad-name") && p.detail().contains(why)),
                caseName + ": " + found);
        CorruptImageTest.FsckResult cli = CorruptImageTest.FsckResult.run(dev);
        assertEquals(1, cli.exit(), caseName + ": fsck exit status\n" + cli.out());
        assertTrue(cli.out().contains("{\"ino\":" + victim.ino() + ",\"kind\":\"bad-name\""), cli.out());
        try (NodeServer node = Fixture.start(dev, SIZE); NodeClient c = Fixture.client(node)) {
            assertEquals(List.of("good"), join(c.list()).stream().map(Reply.DirEntry::name).toList(), caseName);
            assertArrayEquals(GOOD_DATA, Fixture.read(c, good, 0, GOOD_DATA.length));
            FileId fresh = join(c.create("fresh", null, 0644, true)).file();
            join(c.write(fresh, 0, new byte[B], 0));
        }
        assertTrue(Fixture.fsck(dev).stream().anyMatch(p -> p.ino() == victim.ino() && p.kind().equals("bad-name")),
                caseName + ": still reported after the node ran on it");
    }

    @TestFactory
    Stream<DynamicTest> impossibleNamesAreCorruption() {
        Map<String, Object[]> cases = new java.util.LinkedHashMap<>();
        cases.put("slash", new Object[] {bytes('a', '/', 'b'), "'a/b': a file name may not contain '/'"});
        cases.put("nul", new Object[] {bytes('a', 0, 'b'), "'a\\x00b': a file name may not contain NUL"});
        cases.put("dot", new Object[] {bytes('.'), "'.': '.' and '..' are not file names"});
        cases.put("dotdot", new Object[] {bytes('.', '.'), "'..': '.' and '..' are not file names"});
        cases.put("empty", new Object[] {bytes(), "'': a file name may not be empty"});
        cases.put("not-utf8", new Object[] {bytes('s', 0xff), "'s\\xff': a file name must be valid UTF-8"});
        cases.put("encoded-surrogate", new Object[] {bytes('s', 0xed, 0xa0, 0x80), "'s\\xed\\xa0\\x80': a file name must be valid UTF-8"});
        cases.put("overlong-slash", new Object[] {bytes(0xc0, 0xaf), "'\\xc0\\xaf': a file name must be valid UTF-8"});
        return cases.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(),
                () -> refused(e.getKey(), (byte[]) e.getValue()[0], (String) e.getValue()[1])));
    }

    @Test
    void aDotDotInsideANameIsAName() throws Exception {
        Path dev = withVictimName("dots-inside", bytes('a', '.', '.', 'b'));
        assertEquals(List.of(), Fixture.fsck(dev));
        try (NodeServer node = Fixture.start(dev, SIZE); NodeClient c = Fixture.client(node)) {
            assertEquals(victim, join(c.lookup("a..b")).file());
        }
    }
}
