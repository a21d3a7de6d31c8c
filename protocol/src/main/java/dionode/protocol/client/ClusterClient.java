package dionode.protocol.client;

import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.util.HostPort;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client of several members of one cluster (DESIGN §7), one {@link NodeClient} connection each.
 * At connect it asks each member which volume it serves ({@code members}); a file's requests then
 * go straight to the member whose volume its handle names ({@link FileId#volume()}), saving the
 * hop through another member. A handle whose member is not among the targets, or whose connection
 * is closed, goes to any open member, which forwards it over the cluster. Namespace and node
 * requests go to the first open member; a create naming a volume goes to that volume's member.
 *
 * <p>Thread-safe: the routing map is fixed at connect, and {@link NodeClient} is thread-safe.
 */
public final class ClusterClient implements NodeApi {
    /** The open connections, in the order of the targets given. */
    private final List<NodeClient> nodes;
    /** Volume tag to the member serving it, as learned at connect. */
    private final Map<Long, NodeClient> byTag;
    /** Volume uuid to the member serving it. */
    private final Map<String, NodeClient> byVolume;

    private ClusterClient(List<NodeClient> nodes, Map<String, NodeClient> byVolume) {
        this.nodes = List.copyOf(nodes);
        this.byVolume = Map.copyOf(byVolume);
        Map<Long, NodeClient> tags = new HashMap<>();
        byVolume.forEach((volume, client) -> tags.put(FileId.volumeTag(volume), client));
        this.byTag = Map.copyOf(tags);
    }

    /**
     * Connects to every target that answers and learns its volume. A target that cannot be reached
     * is left out (its files are reached through the others).
     *
     * @throws IOException when none of the targets can be reached
     */
    public static ClusterClient connect(List<HostPort> targets, ClientOptions options) throws IOException {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("no node to connect to");
        }
        List<NodeClient> open = new ArrayList<>();
        Map<String, NodeClient> byVolume = new HashMap<>();
        IOException first = null;
        for (HostPort target : targets) {
            NodeClient client;
            try {
                client = NodeClient.connect(target.host(), target.port(), options);
            } catch (IOException e) {
                first = first == null ? e : first;
                continue;
            }
            open.add(client);
            String volume = volumeOf(client, options);
            if (volume != null) {
                byVolume.putIfAbsent(volume, client);
            }
        }
        if (open.isEmpty()) {
            throw first;
        }
        return new ClusterClient(open, byVolume);
    }

    /** The volume {@code client}'s node serves, or null when it does not say in time (it is then only a way in). */
    private static String volumeOf(NodeClient client, ClientOptions options) {
        try {
            Reply reply = client.send(new Request.Members()).toCompletableFuture()
                    .get(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return reply instanceof Reply.Members m && m.volume() != null && !m.volume().isEmpty() ? m.volume() : null;
        } catch (ExecutionException | TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The connection {@code file}'s requests take: its volume's member, else any open one. */
    public NodeClient route(FileId file) {
        NodeClient owner = byTag.get(file.volume());
        return owner != null && owner.isOpen() ? owner : any();
    }

    /** The first open connection (the first one when all are closed: its calls fail with its close). */
    public NodeClient any() {
        for (NodeClient c : nodes) {
            if (c.isOpen()) {
                return c;
            }
        }
        return nodes.get(0);
    }

    /** A create naming a volume goes to that volume's member (no hop); any other to any member. */
    private NodeClient forCreate(Request.Create create) {
        NodeClient owner = create.volume() == null ? null : byVolume.get(create.volume());
        return owner != null && owner.isOpen() ? owner : any();
    }

    /** The open connections, in the order of the targets. */
    public List<NodeClient> nodes() {
        return nodes;
    }

    @Override
    public CompletionStage<Reply.InodeInfo> create(Request.Create create) {
        return forCreate(create).create(create);
    }

    @Override
    public CompletionStage<Reply.InodeInfo> lookup(String name) {
        return any().lookup(name);
    }

    @Override
    public CompletionStage<Void> unlink(String name) {
        return any().unlink(name);
    }

    @Override
    public CompletionStage<List<Reply.DirEntry>> list() {
        return any().list();
    }

    @Override
    public CompletionStage<Long> write(FileId file, long offset, byte[] data, int flags) {
        return route(file).write(file, offset, data, flags);
    }

    @Override
    public CompletionStage<byte[]> read(FileId file, long offset, int length, int flags) {
        return route(file).read(file, offset, length, flags);
    }

    @Override
    public CompletionStage<Void> fsync(FileId file) {
        return route(file).fsync(file);
    }

    @Override
    public CompletionStage<Void> fallocate(FileId file, long offset, long length, boolean keepSize) {
        return route(file).fallocate(file, offset, length, keepSize);
    }

    @Override
    public CompletionStage<Void> punchHole(FileId file, long offset, long length) {
        return route(file).punchHole(file, offset, length);
    }

    @Override
    public CompletionStage<Void> zeroRange(FileId file, long offset, long length, boolean allowUnwritten) {
        return route(file).zeroRange(file, offset, length, allowUnwritten);
    }

    @Override
    public CompletionStage<Void> truncate(FileId file, long size) {
        return route(file).truncate(file, size);
    }

    @Override
    public CompletionStage<Reply.FileStat> stat(FileId file) {
        return route(file).stat(file);
    }

    @Override
    public CompletionStage<List<Reply.FiemapExtent>> fiemap(FileId file, long offset, long length) {
        return route(file).fiemap(file, offset, length);
    }

    @Override
    public CompletionStage<Void> chmod(FileId file, int mode) {
        return route(file).chmod(file, mode);
    }

    @Override
    public CompletionStage<Reply.Explanation> explain(FileId file, long offset, long length, boolean nowait) {
        return route(file).explain(file, offset, length, nowait);
    }

    /** The counters of the first open member. */
    @Override
    public CompletionStage<Map<String, Long>> stats() {
        return any().stats();
    }

    @Override
    public CompletionStage<List<Reply.Member>> members() {
        return any().members();
    }

    /** An inode request goes to its file's member, any other to the first open member. */
    @Override
    public CompletionStage<Reply> send(Request request) {
        if (request instanceof Request.InodeRequest r) {
            return route(r.file()).send(request);
        }
        if (request instanceof Request.Create c) {
            return forCreate(c).send(request);
        }
        return any().send(request);
    }

    @Override
    public void close() {
        for (NodeClient c : nodes) {
            c.close();
        }
    }

    @Override
    public String toString() {
        return "ClusterClient" + nodes + ", volumes " + byVolume.keySet();
    }
}
