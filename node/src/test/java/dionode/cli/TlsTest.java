package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.ChildJvm;
import dionode.node.inode.NodeCounters;
import dionode.node.server.NodeServer;
import dionode.node.server.NodeTls;
import dionode.node.server.TestNodes;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.tls.TlsFiles;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS on the native protocol, end to end: certificates from {@code dionode certs}, a node that
 * requires client certificates, and the clients it must refuse; the handshake timeout; the refusal
 * to serve plain text off loopback and to use a key others can read.
 */
class TlsTest {
    private static final Duration HANDSHAKE = Duration.ofMillis(800);
    private static Path certs;
    private static Path otherCerts;
    private static Path device;
    private static NodeServer node;

    @BeforeAll
    static void start() throws Exception {
        certs = TestCerts.make("certs", "alice,bob");
        otherCerts = TestCerts.make("other-certs", "mallory");
        device = TestNodes.newDevicePath();
        NodeTls tls = TestCerts.server(certs, HANDSHAKE);
        node = NodeServer.start(TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withTls(tls),
                new dionode.node.device.JnaNativeIO());
    }

    @AfterAll
    static void stop() throws IOException {
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    /** Client {@code cn}'s context, or (null) one that trusts the CA but shows no certificate. */
    private static SSLContext client(Path dir, String cn) throws IOException {
        return cn == null ? TlsFiles.context(dir.resolve("ca-cert.pem"), null, null) : TestCerts.client(dir, cn);
    }

    private static NodeClient connect(SSLContext tls) throws IOException {
        ClientOptions options = ClientOptions.defaults();
        return NodeClient.connect("127.0.0.1", node.address().getPort(), tls == null ? options : options.withTls(tls));
    }

    @Test
    void certsWritesTheLayoutWithPrivateKeys() throws Exception {
        for (String f : List.of("ca-cert.pem", "server-cert.pem", "server-key.pem", "alice/ca-cert.pem", "alice/client-cert.pem",
                "alice/client-key.pem", "bob/client-key.pem")) {
            assertTrue(Files.isRegularFile(certs.resolve(f)), f);
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve("server-key.pem"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve("alice/client-key.pem"))));
        assertEquals("alice", TlsFiles.commonName(TlsFiles.certificates(certs.resolve("alice/client-cert.pem")).get(0)));
        assertTrue(TlsFiles.certificates(certs.resolve("server-cert.pem")).get(0).getSubjectAlternativeNames().toString()
                .contains("127.0.0.1"));
    }

    @Test
    void aClientWithACertificateOfTheCaReadsBackWhatItWrote() throws Exception {
        byte[] data = new byte[64 << 10];
        new Random(1).nextBytes(data);
        try (NodeClient c = connect(client(certs, "alice"))) {
            FileId f = c.create("tls-rt", null, 0644, true).toCompletableFuture().join().file();
            assertEquals(data.length, c.write(f, 0, data, 0).toCompletableFuture().join());
            assertArrayEquals(data, c.read(f, 0, data.length, 0).toCompletableFuture().join());
        }
    }

    @Test
    void aClientWithoutACertificateIsRefused() throws Exception {
        assertRefused(client(certs, null));
    }

    @Test
    void aClientWithACertificateOfAnotherCaIsRefused() throws Exception {
        // mallory trusts the node's CA but shows a certificate of her own CA
        SSLContext mallory = TlsFiles.context(certs.resolve("ca-cert.pem"), otherCerts.resolve("mallory/client-cert.pem"),
                otherCerts.resolve("mallory/client-key.pem"));
        assertRefused(mallory);
        // and a client that trusts only the other CA does not accept the node
        IOException e = assertThrows(IOException.class, () -> connect(client(otherCerts, "mallory")).close());
        assertTrue(e.getMessage().contains("TLS"), e.getMessage());
    }

    @Test
    void aPlainTextClientIsRefused() throws Exception {
        assertRefused(null);
    }

    /** Nothing the client asks is done: its connection ends before or at its first request, and it is counted. */
    private static void assertRefused(SSLContext tls) throws Exception {
        long failures = node.counters().get(NodeCounters.TLS_FAILURES);
        try (NodeClient c = connect(tls)) {
            CompletionException e = assertThrows(CompletionException.class,
                    () -> c.create("must-not-exist", null, 0644, true).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join());
            assertEquals(Errno.EIO, ((NodeException) e.getCause()).errno(), e.getCause().getMessage());
            assertTrue(!e.getCause().getMessage().contains("java."), "no class name: " + e.getCause().getMessage());
        } catch (IOException refusedAtConnect) {
            assertTrue(refusedAtConnect.getMessage().contains("TLS"), refusedAtConnect.getMessage());
        }
        TestNodes.settle(() -> node.counters().get(NodeCounters.TLS_FAILURES));
        assertTrue(node.counters().get(NodeCounters.TLS_FAILURES) > failures, "counted in tls_failures");
        try (NodeClient alice = connect(client(certs, "alice"))) {
            assertEquals(Errno.ENOENT, errno(() -> alice.lookup("must-not-exist").toCompletableFuture().join()));
        }
    }

    @Test
    void aStalledHandshakeIsClosedWithinTheTimeoutAndCounted() throws Exception {
        long failures = node.counters().get(NodeCounters.TLS_FAILURES);
        try (Socket s = new Socket("127.0.0.1", node.address().getPort())) {
            s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01}); // the first bytes of a ClientHello, and no more
            s.setSoTimeout(10_000);
            long t0 = System.nanoTime();
            TestNodes.drainUntilClosed(s); // an alert may come first; the node must then close
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < HANDSHAKE.toMillis() + 3000, "closed after " + ms + " ms");
        }
        TestNodes.settle(() -> node.counters().get(NodeCounters.TLS_FAILURES));
        assertEquals(failures + 1, node.counters().get(NodeCounters.TLS_FAILURES));
    }

    @Test
    void serveRefusesPlainTextOffLoopbackAndAKeyOthersCanRead() throws Exception {
        CliRunner.Result plain = CliRunner.run("serve", "--device", TestNodes.newDevicePath().toString(), "--host", "0.0.0.0");
        assertEquals(2, plain.code(), plain::toString);
        assertTrue(plain.stderr().contains("refusing to serve plain text on 0.0.0.0") && plain.stderr().contains("--insecure"),
                plain.stderr());
        Path openKey = certs.resolve("open-key.pem");
        Files.copy(certs.resolve("server-key.pem"), openKey);
        Files.setPosixFilePermissions(openKey, PosixFilePermissions.fromString("rw-r--r--"));
        Path dev = TestNodes.newDevicePath();
        Path log = dev.resolveSibling(dev.getFileName() + ".log");
        try (ChildJvm child = ChildJvm.start(Main.class, log, "serve", "--device", dev.toString(), "--size", "64M", "--port", "0",
                "--tls-cert", certs.resolve("server-cert.pem").toString(), "--tls-key", openKey.toString())) {
            assertEquals(null, child.await("listening on", 60_000), "serve did not refuse");
            assertEquals(1, child.terminate());
            List<String> lines = Files.readAllLines(log);
            assertEquals(List.of("serve: TLS key " + openKey + " is readable or writable by group or others; make it private: chmod 600 "
                    + openKey), lines);
        } finally {
            Files.deleteIfExists(dev);
            Files.deleteIfExists(log);
        }
    }

    private static Errno errno(Runnable call) {
        try {
            call.run();
            return null;
        } catch (CompletionException e) {
            return ((NodeException) e.getCause()).errno();
        }
    }
}
