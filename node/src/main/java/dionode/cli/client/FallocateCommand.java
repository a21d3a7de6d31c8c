package dionode.cli.client;

import dionode.protocol.client.NodeApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dionode fallocate NAME OFFSET LEN}. */
@Command(name = "fallocate", mixinStandardHelpOptions = true,
        description = "Allocate unwritten extents over the holes of [OFFSET, OFFSET+LEN) of file NAME (fallocate(2) mode 0).")
public final class FallocateCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Mixin
    ByteRange range;

    @Option(names = "--keep-size", description = "FALLOC_FL_KEEP_SIZE: do not extend the file size")
    boolean keepSize;

    @Override
    protected int run(NodeApi client) {
        await(client.fallocate(resolve(client, fileName.name), range.offset, range.length, keepSize));
        return 0;
    }
}
