package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.JnaNativeIO;
import dionode.node.inode.AccessRules;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.node.server.NodeTls;
import dionode.node.server.TestNodes;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Owners and modes on a node that requires client certificates (DESIGN §6): what B may do to A's
 * file by its mode, that a refusal changes nothing, what an admin may do, what ls shows, and that
 * owners survive a restart and pass fsck.
 */
class AccessTest {
    private static final int B = 4096;
    private static Path certs;
    private static Path device;
    private static NodeConfig config;
    private static NodeServer node;

    @BeforeAll
    static void start() throws Exception {
        certs = TestCerts.make("access-certs", "alice,bob,root");
        device = TestNodes.newDevicePath();
        NodeTls tls = TestCerts.server(certs, NodeTls.DEFAULT_HANDSHAKE_TIMEOUT);
        config = TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withTls(tls).withAccess(new AccessRules(Set.of("root")));
        node = NodeServer.start(config, new JnaNativeIO());
    }

    @AfterAll
    static void stop() throws IOException {
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    private static NodeClient as(String cn) throws IOException {
        return NodeClient.connect("127.0.0.1", node.address().getPort(), ClientOptions.defaults().withTls(TestCerts.client(certs, cn)));
    }

    private static <T> T join(CompletionStage<T> s) {
        return s.toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).join();
    }

    private static Errno errno(CompletionStage<?> s) {
        try {
            join(s);
            return null;
        } catch (CompletionException e) {
            return ((NodeException) e.getCause()).errno();
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static List<String> ls(NodeClient c) {
        return join(c.list()).stream().map(Reply.DirEntry::name).toList();
    }

    @Test
    void aPrivateFileRefusesOthersUntilItsOwnerOpensItToReading() throws Exception {
        byte[] data = random(4 * B, 1);
        try (NodeClient alice = as("alice"); NodeClient bob = as("bob")) {
            FileId f = join(alice.create("private", null, 0600, true)).file();
            assertEquals(data.length, join(alice.write(f, 0, data, 0)));
            Reply.FileStat before = join(alice.stat(f));
            assertEquals("alice", before.owner());
            FileId seen = join(bob.lookup("private")).file();
            assertEquals(Errno.EACCES, errno(bob.read(seen, 0, B, 0)));
            assertEquals(Errno.EACCES, errno(bob.write(seen, 0, new byte[B], 0)));
            assertEquals(Errno.EACCES, errno(bob.stat(seen)));
            assertEquals(Errno.EACCES, errno(bob.truncate(seen, 0)));
            assertEquals(Errno.EACCES, errno(bob.punchHole(seen, 0, B)));
            assertEquals(Errno.EACCES, errno(bob.fallocate(seen, 0, 64 * B, false)));
            assertEquals(Errno.EACCES, errno(bob.chmod(seen, 0666)));
            assertEquals(Errno.EACCES, errno(bob.unlink("private")));
            assertFalse(ls(bob).contains("private"), "ls shows bob only what he may read");
            assertTrue(ls(alice).contains("private"));
            // nothing bob tried changed anything
            assertArrayEquals(data, join(alice.read(f, 0, data.length, 0)));
            Reply.FileStat after = join(alice.stat(f));
            assertEquals(before.size(), after.size());
            assertEquals(before.mode(), after.mode());
            assertEquals(before.layout(), after.layout());
            join(alice.chmod(f, 0644));
            assertArrayEquals(data, join(bob.read(seen, 0, data.length, 0)));
            assertEquals("alice", join(bob.stat(seen)).owner());
            assertTrue(ls(bob).contains("private"));
            assertEquals(Errno.EACCES, errno(bob.write(seen, 0, new byte[B], 0)), "0644: others read, only the owner writes");
            join(alice.chmod(f, 0666));
            assertEquals(B, join(bob.write(seen, 0, new byte[B], 0)), "0666: others write too");
            assertEquals(Errno.EACCES, errno(bob.unlink("private")), "only the owner unlinks");
        }
    }

    @Test
    void anAdminMayDoAnything() throws Exception {
        try (NodeClient alice = as("alice"); NodeClient root = as("root")) {
            FileId f = join(alice.create("admin-case", null, 0600, true)).file();
            join(alice.write(f, 0, random(B, 2), 0));
            byte[] mine = random(B, 3);
            assertEquals(B, join(root.write(f, 0, mine, 0)));
            assertArrayEquals(mine, join(root.read(f, 0, B, 0)));
            assertTrue(ls(root).contains("admin-case"));
            join(root.chmod(f, 0640));
            assertEquals(0640, join(alice.stat(f)).mode());
            join(root.unlink("admin-case"));
            assertEquals(Errno.ENOENT, errno(alice.lookup("admin-case")));
        }
    }

    @Test
    void ownersSurviveARestartAndFsckFindsTheVolumeClean() throws Exception {
        byte[] data = random(2 * B, 4);
        try (NodeClient bob = as("bob")) {
            FileId f = join(bob.create("bobs", null, 0600, true)).file();
            join(bob.write(f, 0, data, 0));
        }
        node.close();
        assertEquals(0, new CommandLine(new FsckCommand()).execute("--device", device.toString()));
        node = NodeServer.start(config, new JnaNativeIO());
        try (NodeClient alice = as("alice"); NodeClient bob = as("bob")) {
            FileId f = join(bob.lookup("bobs")).file();
            assertEquals("bob", join(bob.stat(f)).owner());
            assertArrayEquals(data, join(bob.read(f, 0, data.length, 0)));
            assertEquals(Errno.EACCES, errno(alice.read(f, 0, B, 0)));
            assertFalse(ls(alice).contains("bobs"));
            assertFalse(ls(bob).contains("bob"), "an identity is not a file");
            // nor can a handle reach its record
            int number = node.volume().identities().number("bob");
            assertTrue(number > 0);
            FileId record = new FileId(number, node.volume().inodes().generation(number));
            assertEquals(Errno.ENOENT, errno(bob.stat(record)));
            assertEquals(Errno.ENOENT, errno(bob.write(record, 0, new byte[B], 0)));
        }
    }
}
