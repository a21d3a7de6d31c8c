package dionode.loadgen.soak;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * Unlink churn (issue 10 items 8 and 9): two connections write {@value #NAME} while a third
 * unlinks it mid-traffic. Every request must be answered within the bound: before the unlink's
 * answer with success, ENOENT, ESTALE or ENOSPC; after it, through the old handle, ENOENT or
 * ESTALE only. The name is created again (the new file must be empty) and the next round begins.
 *
 * <p>Inode numbers are given out next-fit, so a number comes round again after a lap of the
 * inode table; up to {@value #EXTRA_CREATES} extra files a round (created and unlinked) move the
 * lap on while the table has room. Whenever a create gets the number of an unlinked file, the old
 * handle must answer ESTALE. The handles of unlinked files are kept in the context for the same
 * check after the node's restart. Confined to its thread; reply callbacks only complete futures.
 */
final class UnlinkChurn implements Activity {
    static final String NAME = "soak-churn";
    static final String EXTRA = "soak-churn-extra";
    private static final long SPAN = 1 << 20;
    private static final int EXTRA_CREATES = 2;

    private final long inodes;

    /** {@code inodes}: the node's inode table, or 0 when unknown (then no extra creates). */
    UnlinkChurn(long inodes) {
        this.inodes = inodes;
    }

    @Override
    public String name() {
        return "unlink-churn";
    }

    @Override
    public void run(SoakContext ctx) throws Exception {
        SplittableRandom rnd = ctx.random(name());
        try (NodeClient a = ctx.connect(); NodeClient b = ctx.connect(); NodeClient u = ctx.connect()) {
            FileId file = ctx.create(u, NAME);
            while (ctx.running() && a.isOpen() && b.isOpen() && u.isOpen()) {
                file = round(ctx, rnd, new NodeClient[] {a, b}, u, file);
            }
            for (NodeClient c : new NodeClient[] {a, b, u}) {
                if (!c.isOpen()) {
                    ctx.fail(name() + ": the node closed a well-behaved connection: " + c.closeCause());
                }
            }
            unlink(ctx, u, NAME, file, Answer.await(u.unlink(NAME), ctx.replyTimeout()));
        }
    }

    private FileId round(SoakContext ctx, SplittableRandom rnd, NodeClient[] writers, NodeClient u, FileId file) throws InterruptedException {
        List<CompletableFuture<Answer<Long>>> before = new ArrayList<>();
        long writeUntil = System.nanoTime() + (50 + rnd.nextInt(250)) * 1_000_000L;
        while (System.nanoTime() - writeUntil < 0 && before.size() < 48) {
            before.add(write(ctx, rnd, writers[before.size() % 2], file));
            Thread.sleep(3);
        }
        CompletableFuture<Answer<Void>> unlinking = Answer.bounded(u.unlink(NAME), ctx.replyTimeout());
        for (int i = 0; i < 24 && !unlinking.isDone(); i++) {
            before.add(write(ctx, rnd, writers[i % 2], file)); // racing the unlink
        }
        unlink(ctx, u, NAME, file, unlinking.join());
        probe(ctx, "after its unlink", writers, file, false);
        for (CompletableFuture<Answer<Long>> f : before) {
            Answer<Long> a = f.join();
            ctx.tally().request("churn.write", a);
            if (!a.ok() && !a.is(Errno.ENOENT) && !a.is(Errno.ESTALE) && !a.is(Errno.ENOSPC)) {
                ctx.fail("a write racing the unlink of " + NAME + ": " + a);
            }
        }
        Answer<Reply.InodeInfo> gone = Answer.await(u.lookup(NAME), ctx.replyTimeout());
        ctx.tally().request("churn.lookup", gone);
        if (!gone.is(Errno.ENOENT)) {
            ctx.fail("lookup of " + NAME + " after its unlink: " + gone + ", not ENOENT");
        }
        ctx.unlinked(file);
        FileId next = create(ctx, writers, u, NAME);
        Answer<Reply.FileStat> st = Answer.await(u.stat(next), ctx.replyTimeout());
        ctx.tally().request("churn.stat", st);
        if (!st.ok() || st.value().size() != 0 || st.value().blocks() != 0) {
            ctx.fail("the new " + NAME + " (" + next + ") is not empty: " + (st.ok() ? st.value() : st));
        }
        for (int i = 0; i < EXTRA_CREATES && room(ctx, u); i++) {
            FileId extra = create(ctx, writers, u, EXTRA);
            unlink(ctx, u, EXTRA, extra, Answer.await(u.unlink(EXTRA), ctx.replyTimeout()));
            ctx.unlinked(extra);
        }
        ctx.tally().event("unlink_rounds");
        return next;
    }

    /** Whether the inode table has room for a lap's extra files: at most half of it taken. */
    private boolean room(SoakContext ctx, NodeClient u) {
        Answer<Map<String, Long>> st = Answer.await(u.stats(), ctx.replyTimeout());
        return inodes > 0 && st.ok() && st.value().getOrDefault("files", Long.MAX_VALUE) < inodes / 2;
    }

    /** Creates {@code name}; when it gets the number of an unlinked file, that file's handle must answer ESTALE. */
    private FileId create(SoakContext ctx, NodeClient[] c, NodeClient u, String name) {
        Answer<Reply.InodeInfo> made = Answer.await(u.create(name, null, 0644, true), ctx.replyTimeout());
        ctx.tally().request("churn.create", made);
        if (!made.ok()) {
            throw new IllegalStateException("create " + name + " again: " + made);
        }
        FileId f = made.value().file();
        FileId old = ctx.reusedBy(f);
        if (old != null) {
            ctx.tally().event("inode_reuses");
            if (old.generation() == f.generation()) {
                ctx.fail(name + " created at " + f + ", the generation of the unlinked file that had the number");
            }
            probe(ctx, "whose inode number " + name + " now has", c, old, true);
        }
        return f;
    }

    /**
     * Judges an unlink's answer. An ENOENT although the name is there is a node bug (seen: the
     * actor of a number that was looked at while free keeps answering "no inode" to unlink after a
     * file is created there): a failure, then worked round (a stat re-opens the actor) so that the
     * churn goes on.
     */
    private static void unlink(SoakContext ctx, NodeClient u, String name, FileId f, Answer<Void> un) {
        ctx.tally().request("churn.unlink", un);
        if (un.ok()) {
            return;
        }
        Answer<Reply.InodeInfo> still = Answer.await(u.lookup(name), ctx.replyTimeout());
        ctx.fail("unlink of " + name + " (" + f + ") answered " + un + "; a lookup of the name then answered "
                + (still.ok() ? still.value().file() : still));
        Answer<Reply.FileStat> st = Answer.await(u.stat(f), ctx.replyTimeout());
        Answer<Void> again = Answer.await(u.unlink(name), ctx.replyTimeout());
        ctx.tally().request("churn.unlink_after_stat", again);
        if (!again.ok()) {
            throw new IllegalStateException("unlink " + name + " after a stat (" + st + "): " + again);
        }
    }

    /** Requests through the handle of an unlinked file: never success; ESTALE when its number is in use again. */
    static void probe(SoakContext ctx, String when, NodeClient[] c, FileId old, boolean reused) {
        List<CompletableFuture<? extends Answer<?>>> probes = List.of(
                Answer.bounded(c[0].write(old, 0, new byte[4096], IoFlags.ASYNC), ctx.replyTimeout()),
                Answer.bounded(c[1 % c.length].read(old, 0, 4096, 0), ctx.replyTimeout()),
                Answer.bounded(c[0].stat(old), ctx.replyTimeout()),
                Answer.bounded(c[1 % c.length].fsync(old), ctx.replyTimeout()));
        for (CompletableFuture<? extends Answer<?>> p : probes) {
            Answer<?> a = p.join();
            ctx.tally().request("churn.old_handle", a);
            if (a.is(Errno.ESTALE)) {
                ctx.tally().event("estale_answers");
            }
            if (reused ? !a.is(Errno.ESTALE) : !a.is(Errno.ENOENT) && !a.is(Errno.ESTALE)) {
                ctx.fail("a request through the handle of an unlinked file (" + old + ") " + when + ": " + a + ", not "
                        + (reused ? "ESTALE" : "ENOENT or ESTALE"));
            }
        }
    }

    private static CompletableFuture<Answer<Long>> write(SoakContext ctx, SplittableRandom rnd, NodeClient c, FileId file) {
        int len = 4096 * (1 + rnd.nextInt(4));
        long off = 4096L * rnd.nextLong((SPAN - len) / 4096 + 1);
        byte[] data = new byte[len];
        Arrays.fill(data, (byte) 0x5c);
        return Answer.bounded(c.write(file, off, data, rnd.nextBoolean() ? IoFlags.ASYNC : 0), ctx.replyTimeout());
    }
}
