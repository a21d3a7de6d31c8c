package dionode.cli.option;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * A client's TLS files, a picocli {@code @Mixin} of every client command and of load-gen: the CA
 * the node's certificate must be signed by, and the client's own certificate and key for a node
 * that requires one. Not thread-safe: picocli fills it once.
 */
public final class TlsOptions {
    @Option(names = "--tls-ca", paramLabel = "FILE", description = "speak TLS 1.3, trusting a node certificate signed by this CA (PEM)")
    public Path ca;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "this client's certificate (PEM), for a node that requires one")
    public Path cert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "this client's private key (PKCS#8 PEM, mode 0600)")
    public Path key;

    /** Whether TLS was asked for; a certificate without the CA to check the node by is a usage error. */
    public boolean enabled() {
        if (ca == null && (cert != null || key != null)) {
            throw new IllegalArgumentException("--tls-cert and --tls-key need --tls-ca: the CA the node's certificate is checked against");
        }
        return ca != null;
    }
}
