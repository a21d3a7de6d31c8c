package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What real clients make of block status and structured reads: {@code nbdinfo --map} and
 * {@code qemu-img map} against the {@link SparseLayout} file, which must agree with the node's own
 * fiemap. Skipped when the program is not installed ({@link NbdTools}).
 */
class NbdMapInteropTest {
    static NbdFixture nbd;
    static FileId file;

    @BeforeAll
    static void start() throws Exception {
        nbd = NbdFixture.start(128L << 20, "nbd-map");
        try (NodeClient c = nbd.client()) {
            file = SparseLayout.create(c, "map");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (nbd != null) {
            nbd.close();
        }
    }

    /** What {@code dionode fiemap map} says, as base:allocation runs. */
    static String fiemap() {
        try (NodeClient c = nbd.client()) {
            return SparseLayout.rows(SparseLayout.fromFiemap(c.fiemapAll(file), SparseLayout.SIZE));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void nbdinfoMapShowsHolesUnwrittenRangesAndDataAsFiemapDoes() throws Exception {
        NbdTools.assumeInstalled("nbdinfo");
        NbdTools.Run r = NbdTools.run(nbd.scratch, List.of("nbdinfo", "--map", nbd.base + "map"));
        assertEquals(0, r.exit(), r.output());
        // "     offset      length  type  description", e.g. "0  1048576  3  hole,zero"
        List<long[]> rows = new ArrayList<>();
        for (String line : r.output().strip().split("\n")) {
            String[] f = line.strip().split("\\s+");
            rows.add(new long[] {Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])});
            String what = f[2].equals("3") ? "hole,zero" : f[2].equals("2") ? "zero" : "data";
            assertEquals(what, f.length > 3 ? f[3] : "data", line);
        }
        assertEquals(SparseLayout.rows(SparseLayout.LAYOUT), SparseLayout.rows(rows), r.output());
        assertEquals(fiemap(), SparseLayout.rows(rows));
    }

    @Test
    void qemuImgMapAgrees() throws Exception {
        NbdTools.assumeInstalled("qemu-img");
        NbdTools.Run r = NbdTools.run(nbd.scratch, List.of("qemu-img", "map", "-f", "raw", "--output=json", nbd.base + "map"));
        assertEquals(0, r.exit(), r.output());
        Matcher m = Pattern.compile("\"start\": (\\d+), \"length\": (\\d+),[^}]*\"zero\": (true|false), \"data\": (true|false)")
                .matcher(r.output());
        List<long[]> rows = new ArrayList<>();
        while (m.find()) {
            boolean zero = m.group(3).equals("true");
            boolean data = m.group(4).equals("true");
            // qemu's data is "not a hole", its zero "reads as zeros"
            long state = (data ? 0 : Nbd.STATE_HOLE) | (zero ? Nbd.STATE_ZERO : 0);
            long[] last = rows.isEmpty() ? null : rows.get(rows.size() - 1);
            if (last != null && last[2] == state && last[0] + last[1] == Long.parseLong(m.group(1))) {
                last[1] += Long.parseLong(m.group(2)); // qemu may cut a run at its own request sizes
            } else {
                rows.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), state});
            }
        }
        assertFalse(rows.isEmpty(), r.output());
        assertEquals(SparseLayout.rows(SparseLayout.LAYOUT), SparseLayout.rows(rows), r.output());
        assertEquals(fiemap(), SparseLayout.rows(rows));
    }

    @Test
    void qemuIoReadsTheLayoutBackThroughHoleChunks() throws Exception {
        NbdTools.assumeInstalled("qemu-io");
        NbdTools.Run r = NbdTools.run(nbd.scratch, List.of("qemu-io", "-f", "raw", nbd.base + "map", "-c", "read -P 0 0 1M",
                "-c", "read -P 0 1088k 3008k", "-c", "read -P 0 5248k 2944k"));
        assertEquals(0, r.exit(), r.output());
        assertFalse(r.output().contains("verification failed"), r.output());
    }
}
