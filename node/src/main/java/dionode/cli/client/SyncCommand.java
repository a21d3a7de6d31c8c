package dionode.cli.client;

import dionode.protocol.client.NodeClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code dionode sync NAME}: fsync. */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "fsync file NAME: its data and the metadata that reaches it are durable when this returns.")
public final class SyncCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "file name")
    String name;

    @Override
    protected int run(NodeClient client) {
        await(client.fsync(resolve(client, name)));
        return 0;
    }
}
