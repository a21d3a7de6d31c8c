package dionode.protocol.client;

import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** How {@link NodeClient} turns each reply into its caller's type; a reply of another type is EBADMSG. Stateless. */
final class Replies {
    private Replies() {
    }

    static final Function<Reply, Reply> RAW = r -> r;
    static final Function<Reply, Reply.InodeInfo> INODE_INFO =
            r -> r instanceof Reply.InodeInfo i ? i : unexpected(r, "InodeInfo");
    static final Function<Reply, Void> DONE =
            r -> r instanceof Reply.Done ? null : unexpected(r, "Done");
    static final Function<Reply, List<Reply.DirEntry>> FILE_LIST =
            r -> r instanceof Reply.FileList l ? l.entries() : unexpected(r, "FileList");
    static final Function<Reply, Long> WRITTEN =
            r -> r instanceof Reply.Written w ? w.bytes() : unexpected(r, "Written");
    static final Function<Reply, byte[]> DATA =
            r -> r instanceof Reply.Data d ? d.data() : unexpected(r, "Data");
    static final Function<Reply, Reply.FileStat> FILE_STAT =
            r -> r instanceof Reply.FileStat s ? s : unexpected(r, "FileStat");
    static final Function<Reply, List<Reply.FiemapExtent>> FIEMAP =
            r -> r instanceof Reply.FiemapReply f ? f.extents() : unexpected(r, "FiemapReply");
    static final Function<Reply, Map<String, Long>> STATS =
            r -> r instanceof Reply.Stats s ? s.counters() : unexpected(r, "Stats");
    static final Function<Reply, List<Reply.Member>> MEMBERS =
            r -> r instanceof Reply.Members m ? m.members() : unexpected(r, "Members");
    static final Function<Reply, Reply.Explanation> EXPLANATION =
            r -> r instanceof Reply.Explanation e ? e : unexpected(r, "Explanation");

    private static <T> T unexpected(Reply reply, String expected) {
        throw NodeException.stackless(Errno.EBADMSG, "expected a " + expected + " reply, got a " + reply.getClass().getSimpleName());
    }
}
