package dionode.node.crash;

import static dionode.node.crash.Fixture.B;
import static dionode.node.crash.Fixture.join;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * A deterministic set of files that exercises every piece of state a restart must keep: data
 * (aligned, 512-unaligned, extending), setuid/setgid modes, each lock policy, unwritten extents
 * inside and past EOF, holes, punched and zeroed ranges, truncation mid-block, and a file with
 * enough extents to spill out of the inode into a multi-level extent tree. Stateless.
 */
public final class Population {
    private Population() {
    }

    /** Creates the files and fsyncs; returns how many there are. */
    public static int populate(NodeClient c) {
        Random rnd = new Random(42);
        List<String> names = new ArrayList<>();
        // plain data: 1 MiB aligned, then a 512-unaligned patch and an unaligned extending tail
        FileId plain = create(c, "plain", null, 0644, names);
        join(c.write(plain, 0, bytes(rnd, 1 << 20), 0));
        join(c.write(plain, 512, bytes(rnd, 14336), 0));
        join(c.write(plain, (1 << 20) + 1536, bytes(rnd, 2560), 0));
        // setuid executable, and setgid
        FileId suid = create(c, "suid", null, 0644, names);
        join(c.write(suid, 0, bytes(rnd, 3 * B), 0));
        join(c.chmod(suid, 04755));
        FileId sgid = create(c, "sgid", LockPolicy.OVERWRITE_CHECK, 0600, names);
        join(c.chmod(sgid, 02750));
        // one file per policy, with data
        for (LockPolicy p : LockPolicy.values()) {
            FileId ino = create(c, "policy-" + p.cliName(), p, 0640, names);
            join(c.write(ino, 8 * B, bytes(rnd, 5 * B + 512), 0));
        }
        // preallocated inside and past EOF (unwritten), partly written
        FileId pre = create(c, "prealloc", null, 0644, names);
        join(c.fallocate(pre, 0, 64 * B, false));
        join(c.fallocate(pre, 64 * B, 32 * B, true));
        join(c.write(pre, 4 * B, bytes(rnd, 3 * B), 0));
        join(c.write(pre, 20 * B + 1024, bytes(rnd, 1024), 0));
        // holes, punch, zero range, truncate mid-block
        FileId sparse = create(c, "sparse", null, 0644, names);
        join(c.write(sparse, 0, bytes(rnd, 40 * B), 0));
        join(c.write(sparse, 100 * B, bytes(rnd, 8 * B), 0));
        join(c.punchHole(sparse, 5 * B + 512, 6 * B));
        join(c.zeroRange(sparse, 20 * B + 1000, 5 * B, true));
        join(c.truncate(sparse, 104 * B + 777));
        // truncated up (size without blocks) and down to zero
        FileId up = create(c, "truncated-up", null, 0644, names);
        join(c.truncate(up, 10 * B + 3));
        FileId empty = create(c, "emptied", null, 0644, names);
        join(c.write(empty, 0, bytes(rnd, 4 * B), 0));
        join(c.truncate(empty, 0));
        // many extents: alternating written and unwritten blocks, so nothing merges
        FileId many = create(c, "many-extents", null, 0644, names);
        manyExtents(c, many, 2000, rnd);
        c.fsync(plain).toCompletableFuture().join();
        return names.size();
    }

    /** Preallocates {@code 2 * n} blocks and writes every other one: about {@code 2n} extents. */
    public static void manyExtents(NodeClient c, FileId ino, int n, Random rnd) {
        join(c.fallocate(ino, 0, 2L * n * B, false));
        List<CompletableFuture<Long>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fs.add(c.write(ino, 2L * i * B, bytes(rnd, B), 0).toCompletableFuture());
            if (fs.size() >= 32) {
                fs.forEach(Fixture::join);
                fs.clear();
            }
        }
        fs.forEach(Fixture::join);
    }

    static FileId create(NodeClient c, String name, LockPolicy policy, int mode, List<String> names) {
        names.add(name);
        return join(c.create(name, policy, mode, true)).file();
    }

    public static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    /** Flags for a write that returns only when durable. */
    public static final int DURABLE = IoFlags.DURABLE;
}
