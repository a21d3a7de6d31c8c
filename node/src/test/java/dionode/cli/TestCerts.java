package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.node.server.NodeTls;
import dionode.node.server.TestNodes;
import dionode.protocol.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import picocli.CommandLine;

/** Certificates made by {@code dionode certs} for the TLS tests, and the contexts they build. Stateless. */
public final class TestCerts {
    private TestCerts() {
    }

    /** A new certs directory under the test devices' (a CA, a server certificate for 127.0.0.1, one per client). */
    public static Path make(String prefix, String clients) throws IOException {
        Path dir = Files.createDirectories(TestNodes.DIR).resolve(prefix + "-" + System.nanoTime()).toAbsolutePath();
        assertEquals(0, new CommandLine(new CertsCommand()).execute("--dir", dir.toString(), "--server-name", "127.0.0.1",
                "--client", clients));
        return dir;
    }

    /** The node's TLS from {@code dir}, requiring client certificates of its CA. */
    public static NodeTls server(Path dir, Duration handshakeTimeout) throws IOException {
        return new NodeTls(TlsFiles.context(dir.resolve("ca-cert.pem"), dir.resolve("server-cert.pem"), dir.resolve("server-key.pem")),
                true, handshakeTimeout);
    }

    /** Client {@code cn}'s context from {@code dir}: its CA and its own certificate and key. */
    public static SSLContext client(Path dir, String cn) throws IOException {
        Path d = dir.resolve(cn);
        return TlsFiles.context(d.resolve("ca-cert.pem"), d.resolve("client-cert.pem"), d.resolve("client-key.pem"));
    }
}
