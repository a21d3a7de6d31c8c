package dionode.cli.client;

import dionode.cli.option.SizeConverter;
import dionode.protocol.client.NodeApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code dionode truncate NAME SIZE}. */
@Command(name = "truncate", mixinStandardHelpOptions = true,
        description = "Set file NAME's size to SIZE (e.g. 4096, 64K, 1G): shrinking frees blocks, growing leaves a hole.")
public final class TruncateCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Parameters(index = "1", paramLabel = "SIZE", converter = SizeConverter.class, description = "new size in bytes")
    long size;

    @Override
    protected int run(NodeApi client) {
        await(client.truncate(resolve(client, fileName.name), size));
        return 0;
    }
}
