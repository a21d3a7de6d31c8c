package dionode.node.crash;

import dionode.node.device.BlockDevice;
import dionode.node.device.JnaNativeIO;
import dionode.node.device.NativeIO;
import dionode.node.fs.Mkfs;
import dionode.node.fs.Problem;
import dionode.node.fs.Volume;
import dionode.node.fs.VolumeLoader;
import dionode.node.inode.DataPath;
import dionode.node.journal.JournalOptions;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Shared helpers of the durability tests: device files under {@code target/test-devices} (the
 * host disk, where O_DIRECT is real; never /tmp), nodes on free ports, bounded waits, a textual
 * snapshot of everything a restart must keep, and fsck through {@link Volume#mount} read-only.
 * Stateless; thread-safe.
 */
public final class Fixture {
    public static final long MIB = 1L << 20;
    public static final int B = 4096;
    public static final NativeIO JNA = new JnaNativeIO();

    private Fixture() {
    }

    /** {@code <module>/target/test-devices}. */
    public static Path dir() throws IOException {
        Path d = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("target").resolve("test-devices");
        Files.createDirectories(d);
        return d;
    }

    /** A path for a new device file (not created: the node creates it fully written). */
    public static Path newDevice(String name) throws IOException {
        return dir().resolve(name + "-" + UUID.randomUUID() + ".img");
    }

    /** A new device file of {@code size} bytes, fully written and formatted, for tests that mount it themselves. */
    public static Path formattedDevice(String name, long size) throws IOException {
        Path device = newDevice(name);
        dionode.node.device.DeviceFiles.createFullyWritten(device, size, JNA);
        try (BlockDevice dev = BlockDevice.open(device, JNA, 0)) {
            Mkfs.format(dev, 0, LockPolicy.ZEROING_AWARE, Clock.systemUTC());
        }
        return device;
    }

    /** Commit interval long enough that only fsync, durable writes and full transactions commit. */
    public static NodeConfig config(Path device, long size, Duration commitInterval) {
        return NodeConfig.defaults().withDevice(device, size, true).withAddress("127.0.0.1", 0)
                .withPolicy(LockPolicy.ZEROING_AWARE).withTimes(commitInterval, Duration.ofSeconds(30));
    }

    public static NodeServer start(Path device, long size) throws IOException {
        return NodeServer.start(config(device, size, Duration.ofMillis(200)), JNA);
    }

    public static NodeServer start(NodeConfig config, NativeIO io) throws IOException {
        return NodeServer.start(config, io);
    }

    public static NodeServer start(NodeConfig config, NativeIO io, Function<DataPath, DataPath> wrap) throws IOException {
        return NodeServer.start(config, io, wrap);
    }

    public static NodeClient client(NodeServer node) throws IOException {
        return NodeClient.connect("127.0.0.1", node.address().getPort());
    }

    /** Waits at most 60 s. */
    public static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("no reply within 60 s", e);
        }
    }

    /** The errno a request failed with, or null when it succeeded. */
    public static Errno errno(CompletionStage<?> stage) {
        try {
            join(stage);
            return null;
        } catch (CompletionException e) {
            if (e.getCause() instanceof NodeException ne) {
                return ne.errno();
            }
            throw e;
        }
    }

    /** The node's error message of a failed request, or null. */
    public static String errorDetail(CompletionStage<?> stage) {
        try {
            join(stage);
            return null;
        } catch (CompletionException e) {
            return e.getCause() instanceof NodeException ne ? ne.getMessage() : String.valueOf(e.getCause());
        }
    }

    /** What fsck finds: a read-only mount's problems; an unmountable device is one problem "unmountable". */
    public static List<Problem> fsck(Path device) throws IOException {
        try (BlockDevice dev = BlockDevice.open(device, JNA, 0)) {
            try {
                Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), true);
                return v.problems();
            } catch (IOException e) {
                return List.of(new Problem(0, "unmountable", e.getMessage()));
            }
        }
    }

    /** Mounts read-write (replay and orphan processing) and unmounts cleanly: a restart without serving. */
    public static void mountAndUnmount(Path device) throws IOException {
        try (BlockDevice dev = BlockDevice.open(device, JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), false);
            v.close();
        }
    }

    /**
     * Everything a restart must keep, as text: for every file its name, inode, generation, size, disksize,
     * blocks, mode, policy, layout, times, fiemap, and a digest of its bytes.
     */
    public static String snapshot(NodeClient c) {
        StringBuilder s = new StringBuilder();
        for (Reply.DirEntry e : join(c.list())) {
            Reply.FileStat st = join(c.stat(e.file()));
            s.append(e.name()).append(" ino=").append(e.file().ino()).append(" generation=").append(e.file().generation())
                    .append(" size=").append(st.size())
                    .append(" disksize=").append(st.disksize()).append(" blocks=").append(st.blocks())
                    .append(" mode=").append(Integer.toOctalString(st.mode())).append(" policy=").append(st.policy())
                    .append(" layout=").append(st.layout()).append(" mtime=").append(st.mtimeNanos())
                    .append(" ctime=").append(st.ctimeNanos()).append('\n');
            for (Reply.FiemapExtent x : c.fiemapAll(e.file())) {
                s.append("  ").append(x).append('\n');
            }
            s.append("  sha256=").append(digest(c, e.file(), st.size())).append('\n');
        }
        return s.toString();
    }

    /** Every extent of a file, following fiemap's pages. */
    public static String digest(NodeClient c, FileId ino, long size) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            int chunk = 1 << 20;
            for (long off = 0; off < size; off += chunk) {
                int n = (int) Math.min(chunk, size - off);
                int aligned = (n + 511) & ~511;
                byte[] b = join(c.read(ino, off, aligned, 0));
                md.update(b, 0, Math.min(n, b.length));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Reads {@code len} bytes at {@code off} (rounded out to 512 for O_DIRECT), clipped to what is asked. */
    public static byte[] read(NodeClient c, FileId ino, long off, int len) {
        long start = off & ~511L;
        long end = (off + len + 511) & ~511L;
        byte[] b = join(c.read(ino, start, (int) (end - start), 0));
        int from = (int) (off - start);
        int n = Math.max(0, Math.min(len, b.length - from));
        byte[] out = new byte[n];
        System.arraycopy(b, from, out, 0, n);
        return out;
    }

    /**
     * Creates a fully written device file whose every sector holds stale data (self-describing
     * sectors of "iteration -1": what a previous user of the disk left), then formats it. mkfs does
     * not clear the data area, so any read that reaches a block no write of the test has reached
     * shows this pattern instead of zeros.
     */
    public static void staleFormattedDevice(Path device, long size) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(device,
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            int chunk = 1 << 20;
            for (long off = 0; off < size; off += chunk) {
                int n = (int) Math.min(chunk, size - off);
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Sectors.payload(-1, -1, -1, off, n, 1));
                while (b.hasRemaining()) {
                    ch.write(b, off + b.position());
                }
            }
            ch.force(true);
        }
        try (BlockDevice dev = BlockDevice.open(device, JNA, 0)) {
            Mkfs.format(dev, 0, LockPolicy.ZEROING_AWARE, Clock.systemUTC());
        }
    }

    public static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
