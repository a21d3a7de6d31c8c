package dionode.node.server;

import dionode.node.device.JnaNativeIO;
import dionode.node.device.NativeIO;
import dionode.node.inode.DataPath;
import dionode.protocol.LockPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;

/** Nodes on device files under target/ (a real filesystem: O_DIRECT), on a free port. */
public final class TestNodes {
    public static final Path DIR = Path.of("target", "test-devices");

    private TestNodes() {
    }

    public static Path newDevicePath() throws IOException {
        Files.createDirectories(DIR);
        return DIR.resolve("node-" + UUID.randomUUID() + ".img");
    }

    public static NodeConfig config(Path device, long size, LockPolicy policy) {
        return NodeConfig.defaults().withDevice(device, size, true).withAddress("127.0.0.1", 0).withPolicy(policy)
                .withTimes(Duration.ofMillis(200), Duration.ofSeconds(30));
    }

    public static NodeServer start(Path device, long size, LockPolicy policy) throws IOException {
        return NodeServer.start(config(device, size, policy), new JnaNativeIO());
    }

    public static NodeServer start(NodeConfig config, NativeIO io, Function<DataPath, DataPath> wrap) throws IOException {
        return NodeServer.start(config, io, wrap);
    }
}
