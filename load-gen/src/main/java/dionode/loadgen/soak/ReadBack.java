package dionode.loadgen.soak;

import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The end of a soak: every modelled file read back whole, byte for byte, over one connection
 * (after the node's restart when the soak ran its own node), and the node's file list compared
 * with the files the soak left. Failures go to the tally. Not thread-safe: one call at a time,
 * after the traffic.
 */
final class ReadBack {
    private static final int CHUNK = 1 << 20;

    /** What was read back: files, bytes compared, of them acknowledged-written bytes, files that differed. */
    record Result(int files, long compared, long acknowledged, int mismatchingFiles) {
    }

    private ReadBack() {
    }

    /** {@code others}: files the soak left that are not modelled (their content is not the soak's to know). */
    static Result verify(SoakContext ctx, NodeClient c, Set<String> others) {
        Answer<List<Reply.DirEntry>> listing = Answer.await(c.list(), ctx.replyTimeout());
        if (!listing.ok()) {
            ctx.fail("list after the soak: " + listing);
        } else {
            Set<String> want = new TreeSet<>(ctx.models().keySet());
            want.addAll(others);
            Set<String> have = new TreeSet<>();
            listing.value().forEach(e -> have.add(e.name()));
            for (String n : want) {
                if (!have.contains(n)) {
                    ctx.fail("file " + n + " is missing after the soak");
                }
            }
            for (String n : have) {
                if (!want.contains(n)) {
                    ctx.fail("the node holds a file the soak did not leave: " + n);
                }
            }
        }
        long compared = 0;
        long acked = 0;
        int bad = 0;
        for (FileModel m : ctx.models().values()) {
            FileModel.Check r = verify(ctx, c, m);
            compared += r.compared();
            acked += r.acknowledged();
            bad += r.mismatch() == null ? 0 : 1;
        }
        return new Result(ctx.models().size(), compared, acked, bad);
    }

    /**
     * Once the traffic is over, the node's {@code files} counter must count the files it lists: an
     * inode number still taken by a file unlinked long ago makes a create on a full table answer
     * ENOSPC although there is room.
     */
    static void filesCounted(SoakContext ctx, NodeClient c) {
        Answer<java.util.Map<String, Long>> st = Answer.await(c.stats(), ctx.replyTimeout());
        Answer<List<Reply.DirEntry>> listing = Answer.await(c.list(), ctx.replyTimeout());
        if (!st.ok() || !listing.ok()) {
            ctx.fail("stats or list after the traffic: " + st + ", " + listing);
            return;
        }
        long counted = st.value().getOrDefault("files", -1L);
        ctx.tally().events("inode_numbers_held_after_traffic", Math.max(0, counted - listing.value().size()));
        if (counted != listing.value().size()) {
            ctx.fail("after the traffic the node counts " + counted + " files in use (stats files) but lists " + listing.value().size()
                    + ": " + (counted - listing.value().size()) + " inode numbers of unlinked files are not free yet (a create"
                    + " finding no other free number answers ENOSPC \"inode table full\")");
        }
    }

    private static FileModel.Check verify(SoakContext ctx, NodeClient c, FileModel m) {
        Answer<Reply.InodeInfo> found = Answer.await(c.lookup(m.name()), ctx.replyTimeout());
        if (!found.ok()) {
            return failed(ctx, m.name() + ": lookup after the soak: " + found);
        }
        m.handle(found.value().file());
        Answer<Reply.FileStat> st = Answer.await(c.stat(m.handle()), ctx.replyTimeout());
        if (!st.ok()) {
            return failed(ctx, m.name() + ": stat after the soak: " + st);
        }
        long size = st.value().size();
        if (m.size() >= 0 && size != m.size()) {
            return failed(ctx, m.name() + ": size " + size + " after the soak, the acknowledged writes made it " + m.size());
        }
        long compared = 0;
        long acked = 0;
        for (long off = 0; off < Math.min(size, m.capacity()); off += CHUNK) {
            int len = (int) Math.min(CHUNK, size - off);
            Answer<byte[]> r = Answer.await(c.read(m.handle(), off, len, 0), ctx.replyTimeout());
            if (!r.ok() || r.value().length != len) {
                return failed(ctx, m.name() + ": read of " + len + " bytes at " + off + " after the soak: "
                        + (r.ok() ? r.value().length + " bytes" : r));
            }
            FileModel.Check k = m.compare(off, r.value());
            compared += k.compared();
            acked += k.acknowledged();
            if (k.mismatch() != null) {
                ctx.fail("after the soak, " + k.mismatch());
                return new FileModel.Check(compared, acked, k.mismatch());
            }
        }
        return new FileModel.Check(compared, acked, null);
    }

    private static FileModel.Check failed(SoakContext ctx, String why) {
        ctx.fail(why);
        return new FileModel.Check(0, 0, why);
    }
}
