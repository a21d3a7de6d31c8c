package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.TestCerts;
import dionode.node.inode.Caller;
import dionode.node.inode.NodeCounters;
import dionode.node.server.Binding;
import dionode.node.server.NodeServer;
import dionode.node.server.NodeTls;
import dionode.node.server.TestNodes;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * NBD with NBD_OPT_STARTTLS on a node with TLS that requires client certificates: real clients
 * (nbdinfo, qemu-io; skipped when not installed) over TLS, the plain text a TLS node refuses, a
 * certificate of another CA, a stalled STARTTLS, and the caller that reaches the node.
 */
class NbdTlsTest {
    private static final Duration HANDSHAKE = Duration.ofMillis(800);
    private static Path certs;
    private static Path otherCerts;
    private static Path device;
    private static NodeServer node;
    private static Binding binding;
    private static int port;
    private static final Set<String> callers = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void start() throws Exception {
        certs = TestCerts.make("nbd-certs", "alice");
        otherCerts = TestCerts.make("nbd-other-certs", "mallory");
        device = TestNodes.newDevicePath();
        NodeTls tls = TestCerts.server(certs, HANDSHAKE);
        node = NodeServer.start(TestNodes.config(device, 64 << 20, LockPolicy.ZEROING_AWARE).withTls(tls),
                new dionode.node.device.JnaNativeIO());
        binding = new NbdServer((request, caller) -> {
            callers.add(caller.identity());
            return node.dispatcher().dispatch(request, caller);
        }, node.volume().device().sectorSize(), 16, NbdServer.DEFAULT_BUDGET_BYTES, node.transport())
                .bind(node.system(), "127.0.0.1", 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
        port = binding.localAddress().getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        if (binding != null) {
            binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (node != null) {
            node.close();
        }
        Files.deleteIfExists(device);
    }

    private static FileId file(String name, int size) throws Exception {
        try (NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort(), dionode.protocol.client.ClientOptions.defaults()
                .withTls(TestCerts.client(certs, "alice")))) {
            FileId f = c.create(name, null, 0644, true).toCompletableFuture().get().file();
            c.fallocate(f, 0, size, false).toCompletableFuture().get();
            return f;
        }
    }

    private static byte[] nativeRead(FileId f, int off, int len) throws Exception {
        try (NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort(), dionode.protocol.client.ClientOptions.defaults()
                .withTls(TestCerts.client(certs, "alice")))) {
            return c.read(f, off, len, 0).toCompletableFuture().get();
        }
    }

    private static NbdTools.Run run(String... command) throws Exception {
        return NbdTools.run(certs, List.of(command));
    }

    @Test
    void nbdinfoOverTlsSeesTheExportAndTheCallerIsTheCertificatesName() throws Exception {
        NbdTools.assumeInstalled("nbdinfo");
        file("info", 1 << 20);
        NbdTools.Run r = run("nbdinfo", "nbds://127.0.0.1:" + port + "/info?tls-certificates=" + certs.resolve("alice"));
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("1048576"), r.output());
        assertTrue(callers.contains("alice"), callers.toString());
        assertTrue(!callers.contains(Caller.ANONYMOUS_NAME), callers.toString());
    }

    @Test
    void qemuIoWritesAndReadsOverTlsWhatTheNativeProtocolReads() throws Exception {
        NbdTools.assumeInstalled("qemu-io");
        FileId f = file("qemu-tls", 1 << 20);
        NbdTools.Run r = run("qemu-io", "--object", "tls-creds-x509,id=tls0,dir=" + certs.resolve("alice") + ",endpoint=client",
                "--image-opts", "driver=nbd,host=127.0.0.1,port=" + port + ",export=qemu-tls,tls-creds=tls0",
                "-c", "write -P 0xa5 4096 65536", "-c", "read -P 0xa5 4096 65536");
        assertEquals(0, r.exit(), r.output());
        assertTrue(!r.output().contains("Pattern verification failed"), r.output());
        byte[] expect = new byte[65536];
        java.util.Arrays.fill(expect, (byte) 0xa5);
        assertArrayEquals(expect, nativeRead(f, 4096, 65536));
    }

    @Test
    void aPlainTextNbdClientIsRefused() throws Exception {
        NbdTools.assumeInstalled("nbdinfo");
        file("plain", 1 << 20);
        NbdTools.Run r = run("nbdinfo", "nbd://127.0.0.1:" + port + "/plain");
        assertNotEquals(0, r.exit(), r.output());
    }

    @Test
    void aClientCertificateOfAnotherCaIsRefused() throws Exception {
        NbdTools.assumeInstalled("nbdinfo");
        file("other-ca", 1 << 20);
        // mallory trusts the node's CA but shows a certificate of her own CA
        Path dir = Files.createDirectories(otherCerts.resolve("mixed"));
        Files.copy(certs.resolve("ca-cert.pem"), dir.resolve("ca-cert.pem"));
        Files.copy(otherCerts.resolve("mallory/client-cert.pem"), dir.resolve("client-cert.pem"));
        Files.copy(otherCerts.resolve("mallory/client-key.pem"), dir.resolve("client-key.pem"));
        long failures = node.counters().get(NodeCounters.TLS_FAILURES);
        NbdTools.Run r = run("nbdinfo", "nbds://127.0.0.1:" + port + "/other-ca?tls-certificates=" + dir);
        assertNotEquals(0, r.exit(), r.output());
        TestNodes.settle(() -> node.counters().get(NodeCounters.TLS_FAILURES));
        assertTrue(node.counters().get(NodeCounters.TLS_FAILURES) > failures, "counted in tls_failures");
    }

    @Test
    void optionsBeforeStartTlsGetTlsRequiredAndAStalledStartTlsIsClosedAndCounted() throws Exception {
        long failures = node.counters().get(NodeCounters.TLS_FAILURES);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            assertEquals(Nbd.NBDMAGIC, in.readLong());
            assertEquals(Nbd.IHAVEOPT, in.readLong());
            in.readShort();
            out.writeInt(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
            out.writeLong(Nbd.IHAVEOPT);
            out.writeInt(Nbd.OPT_LIST);
            out.writeInt(0);
            assertEquals(Nbd.OPT_REPLY_MAGIC, in.readLong());
            assertEquals(Nbd.OPT_LIST, in.readInt());
            assertEquals(Nbd.REP_ERR_TLS_REQD, in.readInt());
            in.readFully(new byte[in.readInt()]);
            out.writeLong(Nbd.IHAVEOPT);
            out.writeInt(Nbd.OPT_STARTTLS);
            out.writeInt(0);
            assertEquals(Nbd.OPT_REPLY_MAGIC, in.readLong());
            assertEquals(Nbd.OPT_STARTTLS, in.readInt());
            assertEquals(Nbd.REP_ACK, in.readInt());
            assertEquals(0, in.readInt());
            out.write(new byte[] {0x16, 0x03, 0x01}); // the first bytes of a ClientHello, and no more
            TestNodes.drainUntilClosed(s); // an alert may come first; the node must then close
        }
        TestNodes.settle(() -> node.counters().get(NodeCounters.TLS_FAILURES));
        assertEquals(failures + 1, node.counters().get(NodeCounters.TLS_FAILURES));
    }

    @Test
    void exportNameBeforeTlsClosesAndSilenceBeforeStartTlsIsClosedAndCounted() throws Exception {
        file("early", 1 << 20);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            in.readFully(new byte[18]);
            out.writeInt(Nbd.FLAG_C_FIXED_NEWSTYLE);
            out.writeLong(Nbd.IHAVEOPT);
            out.writeInt(Nbd.OPT_EXPORT_NAME);
            out.writeInt(5);
            out.writeBytes("early");
            assertEquals(-1, TestNodes.readOrReset(s), "no export before TLS: the connection is closed");
        }
        long failures = node.counters().get(NodeCounters.TLS_FAILURES);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            in.readNBytes(18);
            assertEquals(-1, TestNodes.readOrReset(s), "a client that never sends STARTTLS is closed");
        }
        TestNodes.settle(() -> node.counters().get(NodeCounters.TLS_FAILURES));
        assertEquals(failures + 1, node.counters().get(NodeCounters.TLS_FAILURES));
    }

    @Test
    void insideTlsTheHagglingResumesAndASecondStartTlsIsInvalid() throws Exception {
        file("inside", 1 << 20);
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(plain.getInputStream());
            DataOutputStream out = new DataOutputStream(plain.getOutputStream());
            in.readFully(new byte[18]);
            out.writeInt(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
            out.writeLong(Nbd.IHAVEOPT);
            out.writeInt(Nbd.OPT_STARTTLS);
            out.writeInt(0);
            in.readFully(new byte[20]);
            javax.net.ssl.SSLContext alice = TestCerts.client(certs, "alice");
            try (javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) alice.getSocketFactory()
                    .createSocket(plain, "127.0.0.1", port, true)) {
                tls.startHandshake();
                DataInputStream tin = new DataInputStream(tls.getInputStream());
                DataOutputStream tout = new DataOutputStream(tls.getOutputStream());
                tout.writeLong(Nbd.IHAVEOPT);
                tout.writeInt(Nbd.OPT_STARTTLS);
                tout.writeInt(0);
                assertEquals(Nbd.OPT_REPLY_MAGIC, tin.readLong());
                assertEquals(Nbd.OPT_STARTTLS, tin.readInt());
                assertEquals(Nbd.REP_ERR_INVALID, tin.readInt());
                tin.readFully(new byte[tin.readInt()]);
                tout.writeLong(Nbd.IHAVEOPT);
                tout.writeInt(Nbd.OPT_LIST);
                tout.writeInt(0);
                assertEquals(Nbd.OPT_REPLY_MAGIC, tin.readLong());
                assertEquals(Nbd.OPT_LIST, tin.readInt());
                assertEquals(Nbd.REP_SERVER, tin.readInt(), "LIST answered inside TLS");
            }
        }
    }
}
