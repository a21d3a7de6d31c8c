package dionode.node.crash;

import static dionode.node.crash.Sectors.SECTOR;

import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The parent's judge of one crash: rebuilds from the child's log what every file may hold after
 * the SIGKILL and checks the restarted node against it.
 *
 * <p>Operations of a stream are sequential, so once operation {@code D} (an fsync or a durable
 * write) was acknowledged, the state after operations {@code 1..D} is durable. A crash may keep
 * any later prefix too (acknowledged but not yet durable, or in flight), so each sector may hold
 * its value after any prefix {@code k} in {@code [D, N]} ({@code N} the last issued operation),
 * judged per sector: a multi-block write may be partly converted. The same holds for a private
 * file's size. Anything else is a failure: a durable write lost, data of another file or another
 * place, stale data (an older generation than durability allows, or bytes never written).
 * Not thread-safe.
 */
final class CrashModel {
    static final int SECTORS = (int) (CrashWorkload.MAX_FILE / SECTOR);

    record Op(long seq, String kind, long a, long b) {
    }

    static final class StreamLog {
        final int stream;
        final int file;
        final FileId ino;
        final String name;
        final int stripe;
        final Map<Long, Op> ops = new LinkedHashMap<>();
        final Set<Long> acked = new HashSet<>();
        long failed = -1;

        StreamLog(int stream, int file, FileId ino, String name, int stripe) {
            this.stream = stream;
            this.file = file;
            this.ino = ino;
            this.name = name;
            this.stripe = stripe;
        }

        /** The last operation whose acknowledgement made everything up to it durable. */
        long durable() {
            long d = 0;
            for (Op op : ops.values()) {
                if (acked.contains(op.seq) && (op.kind.equals("S") || op.kind.equals("D"))) {
                    d = Math.max(d, op.seq);
                }
            }
            return d;
        }

        long lastSeq;

        long issued() {
            return lastSeq;
        }
    }

    final int iteration;
    boolean ready;
    final Map<Integer, StreamLog> streams = new LinkedHashMap<>();
    long opsIssued;
    long opsAcked;
    long durablePoints;

    CrashModel(int iteration, List<String> lines) {
        this.iteration = iteration;
        for (String l : lines) {
            String[] f = l.split(" ");
            switch (f[0]) {
                case "S" -> {
                    int stripe = f[5].startsWith("stripe-") ? Integer.parseInt(f[5].split("-")[1]) : -1;
                    streams.put(Integer.parseInt(f[1]), new StreamLog(Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                            new FileId(Long.parseLong(f[3]), Integer.parseInt(f[6])), f[4], stripe));
                }
                case "READY" -> ready = true;
                case "O" -> {
                    check(f.length == 6, l);
                    StreamLog s = streams.get(Integer.parseInt(f[1]));
                    long seq = Long.parseLong(f[2]);
                    check(seq == s.issued() + 1 && s.failed < 0, l);
                    s.ops.put(seq, new Op(seq, f[3], Long.parseLong(f[4]), Long.parseLong(f[5])));
                    s.lastSeq = seq;
                    opsIssued++;
                }
                case "A" -> {
                    check(f.length == 3, l);
                    StreamLog s = streams.get(Integer.parseInt(f[1]));
                    long seq = Long.parseLong(f[2]);
                    check(seq == s.issued() && !s.acked.contains(seq), l);
                    s.acked.add(seq);
                    opsAcked++;
                    String k = s.ops.get(seq).kind;
                    if (k.equals("S") || k.equals("D")) {
                        durablePoints++;
                    }
                }
                case "E" -> streams.get(Integer.parseInt(f[1])).failed = Long.parseLong(f[2]);
                default -> {
                    // READY, X (a stream's client died with the child), noise
                }
            }
        }
    }

    /** The child's log is the test's only evidence: it must be whole and consistent, or nothing is judged. */
    private static void check(boolean ok, String line) {
        if (!ok) {
            throw new IllegalStateException("inconsistent child log at line: " + line);
        }
    }

    /** What one file may hold: allowed generations per sector (0 = zeros) and allowed sizes. */
    static final class Allowed {
        final long[] first = new long[SECTORS];
        final Map<Integer, Set<Long>> more = new HashMap<>();
        final Set<Long> sizes = new TreeSet<>();
        /** Owning stream per sector, -1 = the file's only stream. */
        final int[] owner = new int[SECTORS];

        boolean allows(int s, long gen) {
            if (first[s] == gen) {
                return true;
            }
            Set<Long> m = more.get(s);
            return m != null && m.contains(gen);
        }

        String describe(int s) {
            Set<Long> all = new TreeSet<>();
            all.add(first[s]);
            all.addAll(more.getOrDefault(s, Set.of()));
            return all.toString();
        }

        void add(int s, long gen) {
            if (first[s] != gen) {
                more.computeIfAbsent(s, k -> new HashSet<>()).add(gen);
            }
        }
    }

    /** Allowed states per file name. */
    Map<String, Allowed> allowed() {
        Map<String, Allowed> out = new LinkedHashMap<>();
        for (StreamLog s : streams.values()) {
            Allowed a = out.computeIfAbsent(s.name, n -> new Allowed());
            long[] val = new long[SECTORS];
            long size = s.stripe >= 0 ? CrashWorkload.MAX_FILE : 0;
            long d = s.durable();
            long n = s.issued();
            boolean[] mine = new boolean[SECTORS];
            for (int i = 0; i < SECTORS; i++) {
                long stripeNo = (long) i * SECTOR / CrashWorkload.STRIPE;
                mine[i] = s.stripe < 0 || stripeNo % CrashWorkload.STRIPED_STREAMS == s.stripe;
                if (mine[i]) {
                    a.owner[i] = s.stripe < 0 ? -1 : s.stream;
                }
            }
            long[] sz = {size};
            for (long k = 1; k <= d; k++) {
                apply(s.ops.get(k), val, sz, null, mine);
            }
            for (int i = 0; i < SECTORS; i++) {
                if (mine[i]) {
                    a.first[i] = val[i];
                }
            }
            a.sizes.add(sz[0]);
            for (long k = d + 1; k <= n; k++) {
                apply(s.ops.get(k), val, sz, a, mine);
                a.sizes.add(sz[0]);
            }
        }
        return out;
    }

    private static void apply(Op op, long[] val, long[] size, Allowed a, boolean[] mine) {
        switch (op.kind) {
            case "W", "D" -> {
                set(val, op.a, op.a + op.b, op.seq, a, mine);
                size[0] = Math.max(size[0], op.a + op.b);
            }
            case "T" -> {
                set(val, op.a, CrashWorkload.MAX_FILE, 0, a, mine);
                size[0] = op.a;
            }
            case "P" -> set(val, op.a, op.a + op.b, 0, a, mine);
            case "Z" -> {
                set(val, op.a, op.a + op.b, 0, a, mine);
                size[0] = Math.max(size[0], op.a + op.b);
            }
            case "F" -> size[0] = Math.max(size[0], op.a + op.b);
            case "K", "S" -> {
            }
            default -> throw new IllegalArgumentException(op.kind);
        }
    }

    private static void set(long[] val, long from, long to, long gen, Allowed a, boolean[] mine) {
        for (long s = from / SECTOR; s < Math.min(SECTORS, to / SECTOR); s++) {
            int i = (int) s;
            if (!mine[i]) {
                continue;
            }
            val[i] = gen;
            if (a != null) {
                a.add(i, gen);
            }
        }
    }

    /** Result of checking the restarted node. */
    static final class Verdict {
        final List<String> failures = new ArrayList<>();
        long sectorsChecked;
        long sectorsWithData;
        long durableSectors;

        void fail(String s) {
            if (failures.size() < 40) {
                failures.add(s);
            }
        }
    }

    /** Checks every file of this iteration through a client of the restarted node. */
    Verdict verify(NodeClient c) {
        Verdict v = new Verdict();
        Map<String, Allowed> allowed = allowed();
        Set<String> listed = new TreeSet<>();
        for (Reply.DirEntry e : Fixture.join(c.list())) {
            listed.add(e.name());
        }
        if (!listed.equals(new TreeSet<>(allowed.keySet()))) {
            v.fail("files after restart " + listed + ", expected exactly " + new TreeSet<>(allowed.keySet()));
        }
        Map<String, StreamLog> byName = new HashMap<>();
        Map<String, Integer> fileIds = new HashMap<>();
        for (StreamLog s : streams.values()) {
            byName.put(s.name, s);
            fileIds.put(s.name, s.file);
        }
        for (Map.Entry<String, Allowed> e : allowed.entrySet()) {
            String name = e.getKey();
            Allowed a = e.getValue();
            FileId ino = byName.get(name).ino;
            if (!listed.contains(name)) {
                continue;
            }
            FileId lookedUp = Fixture.join(c.lookup(name)).file();
            if (lookedUp.ino() != ino.ino() || lookedUp.generation() != ino.generation()) { // the log has no volume tag
                v.fail(name + ": " + lookedUp + ", created as " + ino);
                continue;
            }
            Reply.FileStat st = Fixture.join(c.stat(ino));
            if (!a.sizes.contains(st.size())) {
                v.fail(name + ": size " + st.size() + " not among the sizes a crash may leave " + a.sizes);
            }
            long size = Math.min(st.size(), CrashWorkload.MAX_FILE);
            List<Reply.FiemapExtent> map = c.fiemapAll(ino);
            int fileId = fileIds.get(name);
            for (long off = 0; off < size; off += 1 << 20) {
                int len = (int) Math.min(1 << 20, size - off);
                byte[] data = Fixture.join(c.read(ino, off, (len + SECTOR - 1) & ~(SECTOR - 1), 0));
                for (int at = 0; at + SECTOR <= data.length; at += SECTOR) {
                    int s = (int) ((off + at) / SECTOR);
                    v.sectorsChecked++;
                    Sectors.Id id;
                    try {
                        id = Sectors.decode(data, at);
                    } catch (IllegalStateException ex) {
                        v.fail(name + " sector " + s + ": " + ex.getMessage());
                        continue;
                    }
                    long gen = id == null ? 0 : id.gen();
                    if (a.first[s] != 0 && (a.more.get(s) == null)) {
                        v.durableSectors++;
                    }
                    if (id != null) {
                        v.sectorsWithData++;
                        if (id.iteration() == -1) {
                            v.fail(name + " sector " + s + ": exposes stale device content no file ever wrote " + id);
                            continue;
                        }
                        if (id.iteration() != iteration || id.file() != fileId) {
                            v.fail(name + " sector " + s + ": holds data of another file " + id);
                            continue;
                        }
                        if (id.sector() != s) {
                            v.fail(name + " sector " + s + ": holds data written for sector " + id.sector() + " " + id);
                            continue;
                        }
                        if (a.owner[s] >= 0 && id.stream() != a.owner[s]) {
                            v.fail(name + " sector " + s + ": written by stream " + id.stream() + ", owned by " + a.owner[s]);
                            continue;
                        }
                        if (inUnwritten(map, off + at)) {
                            v.fail(name + " sector " + s + ": fiemap says unwritten but it reads data " + id);
                        }
                    }
                    if (id != null) {
                        StreamLog owner = streamOf(name, id.stream());
                        if (owner == null || id.gen() > owner.issued()) {
                            v.fail(name + " sector " + s + ": generation " + id.gen() + " of stream " + id.stream()
                                    + " was never logged (last logged " + (owner == null ? "none" : owner.issued())
                                    + "): the child's log is incomplete");
                            continue;
                        }
                    }
                    if (!a.allows(s, gen)) {
                        v.fail(name + " sector " + s + ": generation " + gen + " (0 = zeros), a crash may leave only "
                                + a.describe(s) + (gen == 0 ? " (durable data lost)" : " (stale or never written)")
                        + describeStream(name, a.owner[s]));
                    }
                }
            }
        }
        return v;
    }

    private String describeStream(String name, int owner) {
        for (StreamLog s : streams.values()) {
            if (s.name.equals(name) && (owner < 0 || s.stream == owner)) {
                return " [stream " + s.stream + ": durable up to " + s.durable() + ", issued " + s.issued() + "]";
            }
        }
        return "";
    }

    private StreamLog streamOf(String name, int stream) {
        StreamLog s = streams.get(stream);
        return s != null && s.name.equals(name) ? s : null;
    }

    private static boolean inUnwritten(List<Reply.FiemapExtent> map, long pos) {
        for (Reply.FiemapExtent x : map) {
            if (x.unwritten() && pos >= x.logical() && pos < x.logical() + x.length()) {
                return true;
            }
        }
        return false;
    }
}
