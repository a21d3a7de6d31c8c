package dionode.node.server;

import dionode.node.device.JnaNativeIO;
import dionode.node.device.NativeIO;
import dionode.node.inode.DataPath;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

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

    /** Free loopback ports for listeners a test must name before they bind (cluster addresses), all held until each is known. */
    public static int[] freePorts(int n) throws IOException {
        java.util.List<java.net.ServerSocket> held = new java.util.ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (java.net.ServerSocket s : held) {
                s.close();
            }
        }
    }

    public static NodeServer start(Path device, long size, LockPolicy policy) throws IOException {
        return NodeServer.start(config(device, size, policy), new JnaNativeIO());
    }

    public static NodeServer start(NodeConfig config, NativeIO io, Function<DataPath, DataPath> wrap) throws IOException {
        return NodeServer.start(config, io, wrap);
    }

    /**
     * The next byte from a socket the node may have closed, -1 for a close: a node that closes a
     * connection with bytes of the peer unread makes the kernel send a reset, which is a close too.
     */
    public static int readOrReset(java.net.Socket socket) throws IOException {
        try {
            return socket.getInputStream().read();
        } catch (java.net.SocketException reset) {
            if (String.valueOf(reset.getMessage()).contains("reset")) {
                return -1;
            }
            throw reset;
        }
    }

    /** Reads what the node still sends (an alert, say) until it closes or resets the connection. */
    public static void drainUntilClosed(java.net.Socket socket) throws IOException {
        while (readOrReset(socket) >= 0) {
            // what comes before the close does not matter here
        }
    }

    /** A counter's value once it has not changed for half a second (waiting at most 10 s): where a pipeline came to rest. */
    public static long settle(LongSupplier value) throws InterruptedException {
        long v = value.getAsLong();
        long stableSince = System.nanoTime();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() - stableSince < 500_000_000L && System.nanoTime() < deadline) {
            Thread.sleep(50);
            long now = value.getAsLong();
            if (now != v) {
                v = now;
                stableSince = System.nanoTime();
            }
        }
        return v;
    }

    /**
     * Creates {@code name} at the inode number {@code ino}, which an unlink freed (keep the inode
     * table small): fills every free number with a file {@code filler-K}, unlinks the filler that
     * got {@code ino}, so it is the one free number, and creates {@code name} there. Fails unless
     * the new file really got {@code ino}.
     */
    public static FileId createAt(NodeClient c, long ino, String name) throws Exception {
        String holder = null;
        for (int k = 0; ; k++) {
            Reply r = c.send(new Request.Create("filler-" + k, null, 0644, true)).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            if (r instanceof Reply.InodeInfo info) {
                if (info.file().ino() == ino) {
                    holder = info.name();
                }
            } else if (r instanceof Reply.Error e && e.errno() == Errno.ENOSPC) {
                break;
            } else {
                throw new AssertionError("filler create: " + r);
            }
        }
        if (holder == null) {
            throw new AssertionError("inode " + ino + " was not free");
        }
        c.unlink(holder).toCompletableFuture().get(10, TimeUnit.SECONDS);
        FileId file = c.create(name, null, 0644, true).toCompletableFuture().get(10, TimeUnit.SECONDS).file();
        if (file.ino() != ino) {
            throw new AssertionError(name + " got " + file + ", not inode " + ino);
        }
        return file;
    }
}
