package dionode.cli.client;

import dionode.cli.common.Sizes;
import dionode.protocol.client.NodeClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dionode fallocate NAME OFFSET LEN}. */
@Command(name = "fallocate", mixinStandardHelpOptions = true,
        description = "Allocate unwritten extents over the holes of [OFFSET, OFFSET+LEN) of file NAME (fallocate(2) mode 0).")
public final class FallocateCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "file name")
    String name;

    @Parameters(index = "1", paramLabel = "OFFSET", converter = Sizes.Converter.class, description = "start in bytes")
    long offset;

    @Parameters(index = "2", paramLabel = "LEN", converter = Sizes.Converter.class, description = "length in bytes")
    long length;

    @Option(names = "--keep-size", description = "FALLOC_FL_KEEP_SIZE: do not extend the file size")
    boolean keepSize;

    @Override
    protected int run(NodeClient client) {
        await(client.fallocate(resolve(client, name), offset, length, keepSize));
        return 0;
    }
}
