package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Many concurrent unaligned writes into the same partial blocks, over written, unwritten and hole
 * blocks: each 512-byte sector is written exactly once by some writer, so the final content is
 * known exactly; a lost byte (one write's zero padding over another's data) fails the check.
 */
class PartialBlockStressTest extends EngineFixture {
    private static final int SECTOR = 512;
    private static final int BLOCKS = 96;
    private static final int WRITERS = 6;

    @ParameterizedTest
    @EnumSource(LockPolicy.class)
    void concurrentUnalignedWritesNeverLoseBytes(LockPolicy policy) throws Exception {
        StringBuilder layout = new StringBuilder();
        Random rnd = new Random(policy.ordinal());
        for (int i = 0; i < BLOCKS; i++) {
            layout.append("WU.".charAt(rnd.nextInt(3)));
        }
        byte[] model = new byte[BLOCKS * B];
        FileId ino = file("stress", policy, layout.toString(), model);
        // cut the file into random runs of 1..5 sectors; each run is one write, never aligned to a block as a whole
        List<int[]> runs = new ArrayList<>();
        int sectors = BLOCKS * B / SECTOR;
        for (int s = 0; s < sectors; ) {
            int n = Math.min(sectors - s, 1 + rnd.nextInt(5));
            runs.add(new int[] {s, n});
            s += n;
        }
        Collections.shuffle(runs, rnd);
        List<NodeClient> clients = new ArrayList<>();
        List<CompletableFuture<Long>> all = new ArrayList<>();
        try {
            for (int w = 0; w < WRITERS; w++) {
                clients.add(NodeClient.connect("127.0.0.1", node.address().getPort()));
            }
            Semaphore window = new Semaphore(48);
            for (int i = 0; i < runs.size(); i++) {
                int[] r = runs.get(i);
                byte[] data = new byte[r[1] * SECTOR];
                ByteBuffer bb = ByteBuffer.wrap(data);
                for (int k = 0; k < r[1]; k++) {
                    // every sector says which sector it is, so a misplaced or lost one is visible
                    for (int j = 0; j < SECTOR / 8; j++) {
                        bb.putLong(((long) (r[0] + k) << 16) | 0xBEEF);
                    }
                }
                System.arraycopy(data, 0, model, r[0] * SECTOR, data.length);
                window.acquire();
                int flags = i % 3 == 0 ? IoFlags.ASYNC : 0;
                CompletableFuture<Long> f = clients.get(i % WRITERS).write(ino, (long) r[0] * SECTOR, data, flags)
                        .toCompletableFuture();
                f.whenComplete((v, e) -> window.release());
                all.add(f);
            }
            all.forEach(EngineFixture::join);
        } finally {
            for (NodeClient c : clients) {
                c.close();
            }
        }
        byte[] got = join(client.read(ino, 0, BLOCKS * B, 0));
        for (int s = 0; s < sectors; s++) {
            long expect = ((long) s << 16) | 0xBEEF;
            long actual = ByteBuffer.wrap(got, s * SECTOR, 8).getLong();
            assertEquals(expect, actual, policy + ": sector " + s + " of block " + (s * SECTOR / B)
                    + " (" + layout.charAt(s * SECTOR / B) + ")");
        }
        assertEquals(java.util.Arrays.hashCode(model), java.util.Arrays.hashCode(got));
        assertEquals(0, join(client.fiemap(ino, 0, 0)).stream().filter(e -> e.unwritten()).count(),
                "every block was fully written");
        assertEquals(0, probe(ino).dioInFlight());
    }
}
