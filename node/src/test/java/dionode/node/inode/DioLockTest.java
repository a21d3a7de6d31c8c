package dionode.node.inode;

import static dionode.protocol.LockPolicy.ALIGNED_SHARED;
import static dionode.protocol.LockPolicy.OVERWRITE_CHECK;
import static dionode.protocol.LockPolicy.ZEROING_AWARE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For each layout of the issue and each policy: the lock the write holds while its I/O is in
 * flight (seen through the actor while the gate holds the device write), the counters, and the
 * bytes read back.
 */
class DioLockTest extends EngineFixture {

    /** layout, offset, length, expected exclusive per policy (overwrite-check, aligned-shared, zeroing-aware). */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("aligned over written+unwritten", "WUWU", 0, 8192, false, new boolean[] {true, false, false}),
                Arguments.of("aligned over a hole", ".WWW", 0, 4096, false, new boolean[] {true, false, false}),
                Arguments.of("unaligned, written head/tail, unwritten middle", "WUUW", 512, 14336, false,
                        new boolean[] {true, true, false}),
                Arguments.of("unaligned with unwritten head", "UWWW", 512, 14336, false, new boolean[] {true, true, true}),
                Arguments.of("extending", "WWWW", 16384, 4096, false, new boolean[] {true, true, true}),
                Arguments.of("suid file", "WWWW", 0, 4096, true, new boolean[] {true, true, true}),
                Arguments.of("seed Test 1 layout", "WUWUWUWUWUWU", 8192, 8192, false, new boolean[] {true, false, false}),
                Arguments.of("seed Test 2 layout", "WUUWWUUWWUUW", 16384 + 512, 14336, false, new boolean[] {true, true, false}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void lockAndDataPerPolicy(String what, String layout, int offset, int length, boolean suid, boolean[] exclusive)
            throws Exception {
        LockPolicy[] policies = {OVERWRITE_CHECK, ALIGNED_SHARED, ZEROING_AWARE};
        for (int p = 0; p < 3; p++) {
            byte[] model = new byte[layout.length() * B + length];
            FileId ino = file("f-" + p, policies[p], layout, model);
            if (suid) {
                join(client.chmod(ino, 04755));
            }
            byte[] data = new byte[length];
            new Random(p).nextBytes(data);
            Map<String, Long> before = stats();
            gate.close();
            CompletionStage<Long> w = client.write(ino, offset, data, 0);
            gate.awaitHeld(1);
            InodeCommand.LockSnapshot s = probe(ino);
            String where = what + " under " + policies[p] + ": " + s;
            assertEquals(exclusive[p], s.writer(), where);
            assertEquals(exclusive[p] ? 0 : 1, s.readers(), where);
            assertEquals(1, s.dioInFlight(), where);
            gate.open();
            assertEquals(length, join(w));
            Map<String, Long> after = stats();
            assertEquals(exclusive[p] ? 1 : 0, after.get("write_exclusive") - before.get("write_exclusive"), where);
            assertEquals(exclusive[p] ? 0 : 1, after.get("write_shared") - before.get("write_shared"), where);
            System.arraycopy(data, 0, model, offset, length);
            long size = Math.max((long) layout.length() * B, offset + length);
            assertContent(ino, model, size);
            Reply.FileStat st = join(client.stat(ino));
            assertEquals(size, st.size());
            assertEquals(size, st.disksize());
            if (suid) {
                assertEquals(0755, st.mode(), "file_remove_privs cleared setuid");
            }
            // every block the write touched is written now; nothing it did not touch changed state
            for (Reply.FiemapExtent e : fiemap(ino)) {
                long from = e.logical();
                long to = e.logical() + e.length();
                boolean touched = from < offset + length && to > offset / B * B;
                if (touched && from >= offset / B * B && to <= (offset + length + B - 1L) / B * B) {
                    assertFalse(e.unwritten(), "written after the write: " + e);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void partialBlockZeroingCountedOnlyWhenNeeded(String what, String layout, int offset, int length, boolean suid,
            boolean[] exclusive) {
        byte[] model = new byte[layout.length() * B + length];
        FileId ino = file("z", ZEROING_AWARE, layout, model);
        long before = stats().get("zeroed_blocks");
        join(client.write(ino, offset, new byte[length], 0));
        long zeroed = stats().get("zeroed_blocks") - before;
        boolean headPartial = offset % B != 0;
        boolean tailPartial = (offset + length) % B != 0;
        int headBlock = offset / B;
        int tailBlock = (offset + length - 1) / B;
        long expected = 0;
        if (headPartial && (headBlock >= layout.length() || layout.charAt(headBlock) != 'W')) {
            expected++;
        }
        if (tailPartial && tailBlock != headBlock && (tailBlock >= layout.length() || layout.charAt(tailBlock) != 'W')) {
            expected++;
        }
        assertEquals(expected, zeroed, what);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void asyncSharedWriteReleasesTheLockButStaysInFlight(String what, String layout, int offset, int length, boolean suid,
            boolean[] exclusive) throws Exception {
        byte[] model = new byte[layout.length() * B + length];
        FileId ino = file("a", ZEROING_AWARE, layout, model);
        if (suid) {
            join(client.chmod(ino, 04755));
        }
        gate.close();
        CompletionStage<Long> w = client.write(ino, offset, new byte[length], IoFlags.ASYNC);
        gate.awaitHeld(1);
        InodeCommand.LockSnapshot s = probe(ino);
        boolean forceWait = exclusive[2] && !suid; // extending or needs zeroing: held until completion
        if (exclusive[2]) {
            assertEquals(forceWait, s.writer(), what + ": " + s);
        } else {
            assertEquals(0, s.readers(), what + ": shared lock released after submission " + s);
        }
        assertEquals(1, s.dioInFlight(), what);
        gate.open();
        join(w);
        assertTrue(awaitProbe(ino, x -> x.dioInFlight() == 0 && x.readers() == 0 && !x.writer()) != null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void nowaitIsEagainWithNothingChangedOrSucceedsShared(String what, String layout, int offset, int length, boolean suid,
            boolean[] exclusive) {
        byte[] model = new byte[layout.length() * B + length];
        FileId ino = file("n", ZEROING_AWARE, layout, model);
        if (suid) {
            join(client.chmod(ino, 04755));
        }
        boolean allocates = false;
        for (int b = offset / B; b <= (offset + length - 1) / B; b++) {
            allocates |= b >= layout.length() || layout.charAt(b) == '.';
        }
        Reply.FileStat st0 = join(client.stat(ino));
        List<Reply.FiemapExtent> map0 = fiemap(ino);
        long eagain0 = stats().get("eagain");
        byte[] data = new byte[length];
        new Random(9).nextBytes(data);
        dionode.protocol.Errno e = errno(client.write(ino, offset, data, IoFlags.NOWAIT));
        if (exclusive[2] || allocates) {
            assertEquals(dionode.protocol.Errno.EAGAIN, e, what);
            assertEquals(eagain0 + 1, stats().get("eagain"));
            Reply.FileStat st1 = join(client.stat(ino));
            assertEquals(st0.size(), st1.size());
            assertEquals(st0.disksize(), st1.disksize());
            assertEquals(st0.mode(), st1.mode());
            assertEquals(st0.blocks(), st1.blocks());
            assertEquals(map0, fiemap(ino), "extents unchanged");
            assertContent(ino, model, st0.size());
        } else {
            assertEquals(null, e, what);
            System.arraycopy(data, 0, model, offset, length);
            assertContent(ino, model, st0.size());
        }
    }
}
