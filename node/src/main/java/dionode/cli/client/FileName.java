package dionode.cli.client;

import picocli.CommandLine.Parameters;

/** The NAME parameter (index 0) of every client command that acts on one file. Not thread-safe: picocli fills it once. */
public final class FileName {
    @Parameters(index = "0", paramLabel = "NAME", description = "file name")
    String name;
}
