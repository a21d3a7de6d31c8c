package dionode.cli.client;

import dionode.protocol.client.NodeClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code dionode rm NAME}: unlink a file. */
@Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove file NAME (its blocks are freed).")
public final class RmCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "file name")
    String name;

    @Override
    protected int run(NodeClient client) {
        await(client.unlink(name));
        return 0;
    }
}
