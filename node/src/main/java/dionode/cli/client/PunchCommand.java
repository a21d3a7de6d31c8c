package dionode.cli.client;

import dionode.cli.common.Sizes;
import dionode.protocol.client.NodeClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code dionode punch NAME OFFSET LEN}. */
@Command(name = "punch", mixinStandardHelpOptions = true,
        description = "Punch a hole over [OFFSET, OFFSET+LEN) of file NAME, keeping its size "
                + "(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE).")
public final class PunchCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "file name")
    String name;

    @Parameters(index = "1", paramLabel = "OFFSET", converter = Sizes.Converter.class, description = "start in bytes")
    long offset;

    @Parameters(index = "2", paramLabel = "LEN", converter = Sizes.Converter.class, description = "length in bytes")
    long length;

    @Override
    protected int run(NodeClient client) {
        await(client.punchHole(resolve(client, name), offset, length));
        return 0;
    }
}
