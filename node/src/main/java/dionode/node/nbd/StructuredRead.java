package dionode.node.nbd;

import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * A READ under structured replies. The file's extent map for the range comes first (a Fiemap: no
 * lock, no data read); holes and unwritten extents, which read as zeros, go out as
 * NBD_REPLY_TYPE_OFFSET_HOLE chunks, and only the span from the first to the last byte of data is
 * read from the node (in node reads of at most its maximum, as a simple READ is) and sent as
 * OFFSET_DATA chunks of at most the advertised maximum payload. A read of holes only reads
 * nothing. With NBD_CMD_FLAG_DF the reply has one content chunk: a hole if the whole range is one,
 * else all of it as data (zeros included), as the spec requires. A failure is one error chunk and
 * no content. If the map cannot be had, the whole range is read as data and the read's own answer
 * decides. The last chunk carries NBD_REPLY_FLAG_DONE; the reply is built only once every read is
 * back, so no chunk is flagged final while an error could still come. Stateless.
 */
final class StructuredRead {
    /**
     * Zero runs shorter than this go out as zeros inside a data chunk: a hole chunk (32 bytes) then
     * always costs less than the data it stands for plus the data chunk header after it, which is
     * what keeps a reply within {@link #replyBound}.
     */
    static final int MIN_HOLE_CHUNK = 512;

    private StructuredRead() {
    }

    /**
     * The reply's most wire bytes, and the heap the map takes meanwhile: the data, one data chunk
     * header per maximum payload and one more (each hole chunk saves more than it and the data
     * chunk header after it cost), and the fiemap answer.
     */
    static long replyBound(long length, Export e) {
        return length + StructuredReply.DATA_OVERHEAD * (2 + length / e.maxPayload())
                + AllocationMap.fiemapHeapBound(length, e.blockSize());
    }

    static CompletionStage<ByteString> read(Transmission t, NbdDecoder.Command c) {
        long off = c.offset();
        int len = (int) c.length();
        if (len == 0) {
            return CompletableFuture.completedFuture(StructuredReply.none(c.handle()));
        }
        boolean df = (c.flags() & Nbd.CMD_FLAG_DF) != 0;
        return t.call(new Request.Fiemap(t.export().file(), off, len)).thenCompose(r -> {
            List<AllocationMap.Run> runs = r instanceof Reply.FiemapReply f ? AllocationMap.runs(f.extents(), off, off + len)
                    : List.of(new AllocationMap.Run(off, len, AllocationMap.DATA));
            List<AllocationMap.Run> chunks = df ? whole(runs, off, len) : chunks(runs, t.export().maxPayload());
            return send(t, c.handle(), chunks);
        });
    }

    /** DF: one content chunk, a hole only if nothing in the range is data. */
    private static List<AllocationMap.Run> whole(List<AllocationMap.Run> runs, long off, int len) {
        boolean data = runs.stream().anyMatch(r -> r.state() == AllocationMap.DATA);
        return List.of(new AllocationMap.Run(off, len, data ? AllocationMap.DATA : AllocationMap.HOLE));
    }

    /**
     * Content chunks: zero runs of at least {@link #MIN_HOLE_CHUNK} as holes (state HOLE), the
     * rest as data (state DATA; short zero runs join the data around them), cut at {@code max}.
     */
    static List<AllocationMap.Run> chunks(List<AllocationMap.Run> runs, int max) {
        List<AllocationMap.Run> merged = new ArrayList<>();
        for (AllocationMap.Run r : runs) {
            boolean hole = r.state() != AllocationMap.DATA && r.length() >= MIN_HOLE_CHUNK;
            int state = hole ? AllocationMap.HOLE : AllocationMap.DATA;
            AllocationMap.Run last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && last.state() == state) {
                merged.set(merged.size() - 1, new AllocationMap.Run(last.offset(), last.length() + r.length(), state));
            } else {
                merged.add(new AllocationMap.Run(r.offset(), r.length(), state));
            }
        }
        List<AllocationMap.Run> out = new ArrayList<>();
        for (AllocationMap.Run r : merged) {
            if (r.state() != AllocationMap.DATA) {
                out.add(r); // a hole is one chunk, however long
                continue;
            }
            for (long at = 0; at < r.length(); at += max) {
                out.add(new AllocationMap.Run(r.offset() + at, Math.min(max, r.length() - at), AllocationMap.DATA));
            }
        }
        return out;
    }

    private static CompletionStage<ByteString> send(Transmission t, long handle, List<AllocationMap.Run> chunks) {
        long from = -1;
        long to = -1;
        for (AllocationMap.Run r : chunks) {
            if (r.state() == AllocationMap.DATA) {
                from = from < 0 ? r.offset() : from;
                to = r.end();
            }
        }
        if (from < 0) {
            return CompletableFuture.completedFuture(encode(handle, chunks, null, 0));
        }
        long spanStart = from;
        return t.readBytes(from, (int) (to - from)).thenApply(b -> b.data() == null ? t.failure(handle, b.error())
                : encode(handle, chunks, b.data(), spanStart));
    }

    private static ByteString encode(long handle, List<AllocationMap.Run> chunks, ByteString span, long spanStart) {
        ByteStringBuilder out = new ByteStringBuilder();
        for (int i = 0; i < chunks.size(); i++) {
            AllocationMap.Run r = chunks.get(i);
            boolean done = i == chunks.size() - 1;
            if (r.state() == AllocationMap.DATA) {
                int at = (int) (r.offset() - spanStart);
                out.append(StructuredReply.data(handle, r.offset(), span.slice(at, at + (int) r.length()), done));
            } else {
                out.append(StructuredReply.hole(handle, r.offset(), (int) r.length(), done));
            }
        }
        return out.result();
    }
}
