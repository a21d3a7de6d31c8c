package dionode.loadgen;

import dionode.cli.option.HostPorts;
import dionode.cli.option.HostPortsConverter;
import dionode.cli.option.TlsOptions;
import dionode.protocol.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Which node a command loads, a picocli {@code @Mixin} of {@code seed} and {@code run}: a remote
 * one or several of a cluster ({@code --target HOST:PORT[,...]}), or one started in this JVM on a temporary device file in
 * {@code --dir} ({@code --embedded}, the default). Not thread-safe: picocli fills it once.
 */
public final class NodeOptions {
    @Option(names = "--target", paramLabel = "HOST:PORT[,...]", converter = HostPortsConverter.class,
            description = {"node to load (default: --embedded); several nodes of one cluster, comma-separated, spread the",
                "jobs over them (job i connects to the i-th modulo their number)"})
    HostPorts targets;

    @Option(names = "--embedded", description = "start a node in this JVM on a temporary device in --dir (the default)")
    boolean embedded;

    @Mixin
    TlsOptions tls;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "where an embedded node's device (and seed's baseline file) goes; must allow O_DIRECT (default: .)")
    Path dir = Path.of(".");

    /** Refuses {@code --target} together with {@code --embedded}. */
    void check() {
        if (targets != null && embedded) {
            throw new IllegalArgumentException("give --target or --embedded, not both");
        }
    }

    boolean remote() {
        return targets != null;
    }

    /** The directory for temporary device and baseline files. */
    Path dir() {
        return dir;
    }

    /** The node: the remote one, or a new embedded one with room for files of {@code maxFileBytes}. */
    Target open(long maxFileBytes) throws IOException {
        if (tls.enabled() && !remote()) {
            throw new IllegalArgumentException("--tls-ca, --tls-cert and --tls-key are for a --target node");
        }
        return remote() ? Target.remote(targets.all(), tls.enabled() ? TlsFiles.context(tls.ca, tls.cert, tls.key) : null)
                : Target.embedded(dir, maxFileBytes);
    }
}
