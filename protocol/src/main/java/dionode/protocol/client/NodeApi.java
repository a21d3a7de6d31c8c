package dionode.protocol.client;

import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The operations of a dionode client, whether it talks to one node ({@link NodeClient}) or to
 * several members of one cluster ({@link ClusterClient}). Results and failures are as
 * {@link NodeClient} documents them: a {@link Reply.Error} completes a stage exceptionally with a
 * {@link NodeException}. Implementations are thread-safe.
 */
public interface NodeApi extends AutoCloseable {

    // ---------------------------------------------------------------- namespace

    /** Creates (or opens, unless the request is exclusive) a file; the request as built, for every kind of file. */
    CompletionStage<Reply.InodeInfo> create(Request.Create create);

    /** Creates (or, unless {@code exclusive}, opens) {@code name}; {@code policy} null is the node's default. */
    default CompletionStage<Reply.InodeInfo> create(String name, LockPolicy policy, int mode, boolean exclusive) {
        return create(new Request.Create(name, policy, mode, exclusive));
    }

    /** {@link #create(String, LockPolicy, int, boolean)}; with {@code dax} a new file is a DAX file. */
    default CompletionStage<Reply.InodeInfo> create(String name, LockPolicy policy, int mode, boolean exclusive, boolean dax) {
        return create(new Request.Create(name, policy, mode, exclusive, dax));
    }

    CompletionStage<Reply.InodeInfo> lookup(String name);

    CompletionStage<Void> unlink(String name);

    CompletionStage<List<Reply.DirEntry>> list();

    // ---------------------------------------------------------------- inode

    /**
     * Writes {@code data} at {@code offset}; {@code flags} are {@link dionode.protocol.IoFlags} bits.
     * Completes with the number of bytes written. {@code data} may be reused once this returns.
     */
    CompletionStage<Long> write(FileId file, long offset, byte[] data, int flags);

    /** Completes with the bytes read: shorter than {@code length} at end of file. */
    CompletionStage<byte[]> read(FileId file, long offset, int length, int flags);

    CompletionStage<Void> fsync(FileId file);

    CompletionStage<Void> fallocate(FileId file, long offset, long length, boolean keepSize);

    CompletionStage<Void> punchHole(FileId file, long offset, long length);

    CompletionStage<Void> zeroRange(FileId file, long offset, long length, boolean allowUnwritten);

    CompletionStage<Void> truncate(FileId file, long size);

    CompletionStage<Reply.FileStat> stat(FileId file);

    /** Extents overlapping {@code [offset, offset+length)}; length 0 means to the end of the file. */
    CompletionStage<List<Reply.FiemapExtent>> fiemap(FileId file, long offset, long length);

    /**
     * Every extent of the file, paging {@link #fiemap} until the extent the node marks LAST (it
     * answers at most a page per request). Blocks the calling thread: never call it from a reply
     * callback. Failures throw the {@link NodeException}.
     */
    default List<Reply.FiemapExtent> fiemapAll(FileId file) {
        List<Reply.FiemapExtent> all = new ArrayList<>();
        long pos = 0;
        while (true) {
            List<Reply.FiemapExtent> page;
            try {
                page = fiemap(file, pos, 0).toCompletableFuture().join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof NodeException n ? n : e;
            }
            if (page.isEmpty()) {
                return all;
            }
            all.addAll(page);
            Reply.FiemapExtent last = page.get(page.size() - 1);
            long next = last.logical() + last.length();
            if ((last.flags() & Reply.FiemapExtent.LAST) != 0 || next <= pos) {
                return all;
            }
            pos = next;
        }
    }

    CompletionStage<Void> chmod(FileId file, int mode);

    /** How the node would decide the lock for a direct write of {@code length} bytes at {@code offset}, without writing. */
    CompletionStage<Reply.Explanation> explain(FileId file, long offset, long length, boolean nowait);

    // ---------------------------------------------------------------- node

    /** The node's counters by name (sorted, unmodifiable). */
    CompletionStage<Map<String, Long>> stats();

    /** The cluster's members as the node sees them; a node without a cluster lists itself. */
    CompletionStage<List<Reply.Member>> members();

    /**
     * Sends any request and completes with the node's reply as it came, {@link Reply.Error}
     * included. Only client-side failures (connection, frame size, a body that is not a
     * {@link Reply}) complete it exceptionally.
     */
    CompletionStage<Reply> send(Request request);

    /** Closes every connection, failing what is outstanding with {@code EIO}. Idempotent. */
    @Override
    void close();
}
