package dionode.node.inode;

import static dionode.protocol.LockPolicy.ALIGNED_SHARED;
import static dionode.protocol.LockPolicy.OVERWRITE_CHECK;
import static dionode.protocol.LockPolicy.ZEROING_AWARE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.lock.LockDecision.Rule;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code explain} against the write that follows it: the lock the real write holds while its I/O
 * is held at the gate, the {@code write_rule_*} counter it moves, and the NOWAIT answer it gets.
 */
class ExplainTest extends EngineFixture {
    private static final LockPolicy[] POLICIES = {OVERWRITE_CHECK, ALIGNED_SHARED, ZEROING_AWARE};

    @ParameterizedTest(name = "{0}")
    @MethodSource("dionode.node.inode.DioLockTest#cases")
    void explainAgreesWithTheLockARealWriteTakes(String what, String layout, int offset, int length, boolean suid,
            boolean[] exclusive) throws Exception {
        for (int p = 0; p < 3; p++) {
            byte[] model = new byte[layout.length() * B + length];
            FileId ino = file("x-" + p, POLICIES[p], layout, model);
            if (suid) {
                join(client.chmod(ino, 04755));
            }
            String where = what + " under " + POLICIES[p];
            Reply.Explanation e = join(client.explain(ino, offset, length, false));
            assertEquals(exclusive[p] ? "exclusive" : "shared", e.lock(), where + ": " + e);
            assertEquals(POLICIES[p], e.policy());
            Map<String, Long> before = stats();
            gate.close();
            CompletionStage<Long> w = client.write(ino, offset, new byte[length], 0);
            gate.awaitHeld(1);
            InodeCommand.LockSnapshot held = probe(ino);
            assertEquals(e.lock().equals("exclusive"), held.writer(), where + ": " + held);
            gate.open();
            assertEquals(length, join(w));
            assertEquals(Map.of("write_rule_" + e.rule(), 1L), ruleDeltas(before, stats()), where);
        }
    }

    @Test
    void seedLayoutsCountTheirRuleUnderEachPolicy() {
        // Test 1: 8 KiB aligned writes over |W|U|; Test 2: 14336 bytes at +512 over |W|U|U|W|
        String[] test1 = {"not_overwrite", "aligned", "aligned"};
        String[] test2 = {"not_overwrite", "not_overwrite", "unaligned_no_zeroing"};
        for (int p = 0; p < 3; p++) {
            assertEquals(Map.of("write_rule_" + test1[p], 6L), seedRun("t1-" + p, POLICIES[p], "WU".repeat(6), 8192, 8192, 0),
                    "Test 1 under " + POLICIES[p]);
            assertEquals(Map.of("write_rule_" + test2[p], 3L), seedRun("t2-" + p, POLICIES[p], "WUUW".repeat(3), 16384, 14336, 512),
                    "Test 2 under " + POLICIES[p]);
        }
    }

    /** One write per stride over a file laid out as {@code layout}, each explained first: the rule counters that moved. */
    private Map<String, Long> seedRun(String name, LockPolicy policy, String layout, int stride, int length, int head) {
        FileId ino = file(name, policy, layout, new byte[layout.length() * B]);
        Map<String, Long> before = stats();
        for (long at = head; at + length <= (long) layout.length() * B; at += stride) {
            Reply.Explanation e = join(client.explain(ino, at, length, false));
            long was = stats().get("write_rule_" + e.rule());
            assertEquals(length, join(client.write(ino, at, new byte[length], 0)));
            assertEquals(was + 1, stats().get("write_rule_" + e.rule()), "the rule explain named moved: " + e);
        }
        return ruleDeltas(before, stats());
    }

    @Test
    void nowaitAnswersMatchTheRealNowaitWrite() throws Exception {
        byte[] model = new byte[8 * B];
        // Test 2's layout under the base kernel: unaligned over unwritten blocks needs exclusive, so NOWAIT is EAGAIN
        FileId base = file("nb", OVERWRITE_CHECK, "WUUW", model);
        Reply.Explanation refused = join(client.explain(base, 512, 14336, true));
        assertTrue(refused.eagain() && refused.answer().startsWith("EAGAIN: needs the exclusive lock (not_overwrite"), refused::toString);
        assertEquals(Errno.EAGAIN, errno(client.write(base, 512, new byte[14336], IoFlags.NOWAIT)));
        // patch 4 lets it run shared: two lookups, the partial head and tail blocks, both written
        FileId za = file("nz", ZEROING_AWARE, "WUUW", model);
        Reply.Explanation shared = join(client.explain(za, 512, 14336, true));
        assertFalse(shared.eagain(), shared::toString);
        assertEquals("unaligned_no_zeroing", shared.rule());
        assertEquals(List.of("written", "written"), shared.lookups().stream().map(Reply.ExtentAnswer::state).toList());
        assertEquals(14336L, join(client.write(za, 512, new byte[14336], IoFlags.NOWAIT)));
        // aligned over a hole is shared, but a NOWAIT write may not allocate (patch 1)
        FileId hole = file("nh", ZEROING_AWARE, ".WWW", model);
        Reply.Explanation alloc = join(client.explain(hole, 0, B, true));
        assertEquals("shared", alloc.lock());
        assertEquals(1, alloc.holeBlocks());
        assertEquals("EAGAIN: would allocate 1 blocks", alloc.answer());
        assertEquals(Errno.EAGAIN, errno(client.write(hole, 0, new byte[B], IoFlags.NOWAIT)));
        // the same write without NOWAIT proceeds and allocates
        Reply.Explanation blocking = join(client.explain(hole, 0, B, false));
        assertEquals("proceeds under the shared lock, allocating 1 blocks", blocking.answer());
    }

    @Test
    void aHeldLockIsTheNowaitAnswerAndNothingChanges() throws Exception {
        FileId ino = file("held", ZEROING_AWARE, "WWWW", new byte[4 * B]);
        gate.close();
        CompletionStage<Long> extending = client.write(ino, 4L * B, new byte[B], 0);
        gate.awaitHeld(1);
        Reply.Explanation e = join(client.explain(ino, 0, B, true));
        assertEquals("held exclusive", e.lockNow());
        assertEquals(Rule.ALIGNED, Rule.valueOf(e.rule().toUpperCase(java.util.Locale.ROOT)));
        assertEquals("EAGAIN: i_rwsem is not available (shared)", e.answer());
        assertEquals(1, e.dioInFlight());
        assertEquals(Errno.EAGAIN, errno(client.write(ino, 0, new byte[B], IoFlags.NOWAIT)));
        gate.open();
        assertEquals(B, join(extending));
        assertEquals("free", join(client.explain(ino, 0, B, true)).lockNow());
        assertEquals(5L * B, join(client.stat(ino)).size(), "explain changed nothing");
    }

    private static Map<String, Long> ruleDeltas(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> moved = new java.util.TreeMap<>();
        after.forEach((name, value) -> {
            long delta = value - before.getOrDefault(name, 0L);
            if (name.startsWith("write_rule_") && delta != 0) {
                moved.put(name, delta);
            }
        });
        return moved;
    }
}
