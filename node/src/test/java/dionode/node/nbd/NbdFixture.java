package dionode.node.nbd;

import dionode.node.server.Binding;
import dionode.node.server.NodeServer;
import dionode.node.server.TestNodes;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A node on a device file under target/ with NBD bound on 127.0.0.1 beside it, and, for tests that
 * run clients, a scratch directory there; {@link #close} removes all of it.
 */
final class NbdFixture implements AutoCloseable {
    final Path device;
    final NodeServer node;
    final Binding binding;
    final int port;
    /** {@code nbd://127.0.0.1:PORT/}: append an export name. */
    final String base;
    /** Null unless asked for. */
    final Path scratch;

    private NbdFixture(Path device, NodeServer node, Binding binding, Path scratch) {
        this.device = device;
        this.node = node;
        this.binding = binding;
        this.port = binding.localAddress().getPort();
        this.base = "nbd://127.0.0.1:" + port + "/";
        this.scratch = scratch;
    }

    /** @param scratchName prefix of a scratch directory to make, or null for none */
    static NbdFixture start(long deviceSize, String scratchName) throws Exception {
        Path device = TestNodes.newDevicePath();
        Path scratch = scratchName == null ? null : Files.createTempDirectory(TestNodes.DIR, scratchName).toAbsolutePath();
        NodeServer node = TestNodes.start(device, deviceSize, LockPolicy.ZEROING_AWARE);
        Binding binding = NbdServer.bind(node.system(), node.dispatcher(), node.volume().device().sectorSize(), "127.0.0.1", 0)
                .toCompletableFuture().get(30, TimeUnit.SECONDS);
        return new NbdFixture(device, node, binding, scratch);
    }

    /** A native-protocol client of the node (close it). */
    NodeClient client() throws IOException {
        return NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    @Override
    public void close() throws Exception {
        binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        node.close();
        Files.deleteIfExists(device);
        if (scratch != null) {
            try (var files = Files.list(scratch)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(scratch);
        }
    }
}
