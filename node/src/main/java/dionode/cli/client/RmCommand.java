package dionode.cli.client;

import dionode.protocol.client.NodeApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code dionode rm NAME}: unlink a file. */
@Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove file NAME (its blocks are freed).")
public final class RmCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Override
    protected int run(NodeApi client) {
        await(client.unlink(fileName.name));
        return 0;
    }
}
