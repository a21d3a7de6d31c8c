package dionode.cli.client;

import dionode.cli.option.HostPorts;
import dionode.cli.option.HostPortsConverter;
import dionode.cli.option.TlsOptions;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.ClusterClient;
import dionode.protocol.client.NodeApi;
import dionode.protocol.client.NodeClient;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import dionode.protocol.tls.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Base of every client subcommand: {@code --target}, the connection, and the error contract. A
 * failed request prints {@code dionode CMD: ERRNO: message} on stderr and exits 1; a node that
 * cannot be reached exits 1 with a message naming the address. Not thread-safe (one run per
 * instance, as picocli uses it).
 */
public abstract class ClientCommand implements Callable<Integer> {
    /** The sector size direct I/O is aligned to. */
    static final int SECTOR = 512;
    /** Bytes per read or write request of put/get. */
    static final int CHUNK = 1 << 20;
    /** Requests of put/get in flight at once. */
    static final int DEPTH = 8;

    /** The node a client command talks to unless told otherwise: the one {@code dionode serve} starts. */
    static final String DEFAULT_TARGET = "127.0.0.1:7070";

    @Option(names = "--target", paramLabel = "HOST:PORT[,...]", defaultValue = DEFAULT_TARGET, converter = HostPortsConverter.class,
            description = {"the node (default: ${DEFAULT-VALUE}); several members of one cluster, comma-separated: each",
                "file's requests go to the member serving it, the others to the first that answers"})
    HostPorts targets;

    @Mixin
    TlsOptions tls;

    @Spec
    CommandSpec spec;

    /** Plain text, or TLS from the files {@code tls} names. */
    public static ClientOptions clientOptions(TlsOptions tls) throws IOException {
        ClientOptions options = ClientOptions.defaults();
        return tls.enabled() ? options.withTls(TlsFiles.context(tls.ca, tls.cert, tls.key)) : options;
    }

    /** Runs the command over an open connection; returns the exit code. */
    protected abstract int run(NodeApi client) throws IOException;

    /** Checks option combinations before connecting; throws a {@code ParameterException} (exit 2). */
    protected void validate() {
    }

    @Override
    public final Integer call() {
        validate();
        NodeApi client;
        String target = targets.toString();
        try {
            ClientOptions options = clientOptions(tls);
            client = targets.all().size() == 1 ? NodeClient.connect(targets.first().host(), targets.first().port(), options)
                    : ClusterClient.connect(targets.all(), options);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        } catch (ConnectException e) {
            return fail("cannot connect to " + target + ": " + e.getMessage() + " (is a node running there? start one with 'dionode serve')");
        } catch (IOException e) {
            return fail("cannot connect to " + target + ": " + e.getMessage());
        }
        try (client) {
            return run(client);
        } catch (NodeException e) {
            return fail(e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            return fail(Errno.EIO.name() + ": " + e.getMessage());
        }
    }

    /** Prints {@code dionode CMD: message} on stderr; returns 1. */
    protected int fail(String message) {
        System.err.println(spec.qualifiedName() + ": " + message);
        System.err.flush();
        return 1;
    }

    /** Waits for a stage; a failure is rethrown as the {@link NodeException} (or other runtime exception) it is. */
    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** The handle of an existing name's file (ENOENT if missing). */
    static FileId resolve(NodeApi client, String name) {
        Reply.InodeInfo info = await(client.lookup(name));
        return info.file();
    }
}
