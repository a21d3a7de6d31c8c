package dionode.node.nbd;

import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A file of 8 MiB with every kind of range, made through the native protocol: hole, data,
 * unwritten (fallocated), hole, data (written into a hole), hole. {@link #LAYOUT} is what it must
 * look like to base:allocation, {@link #fromFiemap} what {@code dionode fiemap} says of it.
 */
final class SparseLayout {
    static final long M = 1 << 20;
    static final long SIZE = 8 * M;
    static final byte[] FIRST = NbdProtocolTest.pattern(64 << 10, 1);
    static final byte[] SECOND = NbdProtocolTest.pattern(128 << 10, 2);

    /** base:allocation flags, as the spec numbers them (not the code under test's constants). */
    static final long HOLE = 3;
    static final long ZERO = 2;
    static final long DATA = 0;

    /** (offset, length, base:allocation flags) per run. */
    static final long[][] LAYOUT = {
        {0, M, HOLE},
        {M, 64 << 10, DATA},
        {M + (64 << 10), 2 * M - (64 << 10), ZERO},
        {3 * M, 2 * M, HOLE},
        {5 * M, 128 << 10, DATA},
        {5 * M + (128 << 10), 3 * M - (128 << 10), HOLE},
    };

    private SparseLayout() {
    }

    /** A file of {@code size} bytes that is all hole. */
    static FileId empty(NodeClient c, String name, long size) throws Exception {
        FileId f = c.create(name, null, 0644, true).toCompletableFuture().get().file();
        c.truncate(f, size).toCompletableFuture().get();
        return f;
    }

    static FileId create(NodeClient c, String name) throws Exception {
        FileId f = empty(c, name, SIZE);
        c.fallocate(f, M, 2 * M, false).toCompletableFuture().get();
        c.write(f, M, FIRST, 0).toCompletableFuture().get();
        c.write(f, 5 * M, SECOND, 0).toCompletableFuture().get();
        return f;
    }

    /** The file's contents. */
    static byte[] contents() {
        byte[] b = new byte[(int) SIZE];
        System.arraycopy(FIRST, 0, b, (int) M, FIRST.length);
        System.arraycopy(SECOND, 0, b, (int) (5 * M), SECOND.length);
        return b;
    }

    /** Runs of {@code [0, size)} as the fiemap extents say (written, unwritten, none), adjacent equal ones merged. */
    static List<long[]> fromFiemap(List<Reply.FiemapExtent> extents, long size) {
        long[] state = new long[(int) (size / 4096)];
        Arrays.fill(state, HOLE);
        for (Reply.FiemapExtent e : extents) {
            for (long b = e.logical() / 4096; b < (e.logical() + e.length()) / 4096 && b < state.length; b++) {
                state[(int) b] = e.unwritten() ? ZERO : DATA;
            }
        }
        List<long[]> out = new ArrayList<>();
        for (int b = 0; b < state.length; b++) {
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[2] == state[b]) {
                last[1] += 4096;
            } else {
                out.add(new long[] {b * 4096L, 4096, state[b]});
            }
        }
        return out;
    }

    /** Rows as text, for assertEquals with a readable difference. */
    static String rows(List<long[]> rows) {
        StringBuilder b = new StringBuilder();
        for (long[] r : rows) {
            b.append(Arrays.toString(r)).append('\n');
        }
        return b.toString();
    }

    static String rows(long[][] rows) {
        return rows(List.of(rows));
    }
}
