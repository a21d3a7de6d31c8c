package dionode.cli.client;

import dionode.protocol.client.NodeApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code dionode punch NAME OFFSET LEN}. */
@Command(name = "punch", mixinStandardHelpOptions = true,
        description = "Punch a hole over [OFFSET, OFFSET+LEN) of file NAME, keeping its size "
                + "(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE).")
public final class PunchCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Mixin
    ByteRange range;

    @Override
    protected int run(NodeApi client) {
        await(client.punchHole(resolve(client, fileName.name), range.offset, range.length));
        return 0;
    }
}
