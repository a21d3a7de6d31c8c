package dionode.loadgen.soak;

import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.List;

/**
 * After the node's restart: a mount gives inode numbers out from the lowest free one, which are
 * the numbers of files the soak unlinked. Files are created until one has such a number (at most
 * {@value #MAX_CREATES}); the old handle must then answer ESTALE, as during the churn. The files
 * made for it are unlinked again. Not thread-safe: one call, after the read-back.
 */
final class StaleAfterRestart {
    static final String PREFIX = "soak-reuse-";
    private static final int MAX_CREATES = 256;

    private StaleAfterRestart() {
    }

    static void check(SoakContext ctx, NodeClient c) {
        if (ctx.unlinkedCount() == 0) {
            return;
        }
        List<String> made = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CREATES; i++) {
                String name = PREFIX + i;
                Answer<Reply.InodeInfo> a = Answer.await(c.create(name, null, 0644, true), ctx.replyTimeout());
                ctx.tally().request("restart.create", a);
                if (!a.ok()) {
                    ctx.fail("create " + name + " after the restart: " + a);
                    return;
                }
                made.add(name);
                FileId old = ctx.reusedBy(a.value().file());
                if (old != null) {
                    ctx.tally().event("inode_reuses_after_restart");
                    UnlinkChurn.probe(ctx, "after the restart, whose inode number " + name + " now has", new NodeClient[] {c}, old, true);
                    return;
                }
            }
        } finally {
            for (String n : made) {
                Answer<Void> u = Answer.await(c.unlink(n), ctx.replyTimeout());
                ctx.tally().request("restart.unlink", u);
                if (!u.ok()) {
                    ctx.fail("unlink " + n + " after the restart: " + u);
                }
            }
        }
    }
}
