package dionode.cli.client;

import dionode.protocol.client.NodeApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code dionode sync NAME}: fsync. */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "fsync file NAME: its data and the metadata that reaches it are durable when this returns.")
public final class SyncCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Override
    protected int run(NodeApi client) {
        await(client.fsync(resolve(client, fileName.name)));
        return 0;
    }
}
