package dionode.node.nbd;

import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.util.ByteString;

/**
 * NBD_CMD_BLOCK_STATUS for {@code base:allocation}: one Fiemap of the range (the extent map only,
 * no lock and no data read) as one NBD_REPLY_TYPE_BLOCK_STATUS chunk, flagged done. The request's
 * length is a hint: the reply covers at most {@link AllocationMap#WINDOW_BLOCKS} file system
 * blocks from the offset (so the node's answer is whole, and the reply and the map it is built
 * from stay within what {@link #replyBound} reserves), never more than was asked, and always at
 * least one descriptor. Clients ask again from where a reply ends. With NBD_CMD_FLAG_REQ_ONE only
 * the first descriptor is sent. A failure is one error chunk. Stateless.
 */
final class BlockStatus {
    private BlockStatus() {
    }

    /** Descriptors a window can need: one per extent it overlaps and one per hole between them and at its ends. */
    static int maxDescriptors() {
        return 2 * (AllocationMap.WINDOW_BLOCKS + 1) + 1;
    }

    static long replyBound(Export e) {
        return StructuredReply.HEADER_BYTES + 4 + 8L * maxDescriptors()
                + AllocationMap.fiemapHeapBound((long) AllocationMap.WINDOW_BLOCKS * e.blockSize(), e.blockSize());
    }

    static CompletionStage<ByteString> reply(Transmission t, NbdDecoder.Command c) {
        Export e = t.export();
        long off = c.offset();
        long len = Math.min(c.length(), (long) AllocationMap.WINDOW_BLOCKS * e.blockSize());
        boolean one = (c.flags() & Nbd.CMD_FLAG_REQ_ONE) != 0;
        return t.call(new Request.Fiemap(e.file(), off, len)).thenApply(r -> {
            if (!(r instanceof Reply.FiemapReply f)) {
                return t.failure(c.handle(), r);
            }
            List<AllocationMap.Run> runs = AllocationMap.runs(f.extents(), off, off + len);
            return StructuredReply.blockStatus(c.handle(), Negotiation.BASE_ALLOCATION_ID, one ? runs.subList(0, 1) : runs, true);
        });
    }
}
