package dionode.cli.client;

import dionode.cli.option.SizeConverter;
import picocli.CommandLine.Parameters;

/**
 * The OFFSET and LEN parameters of fallocate and punch, next after the positions the command has
 * already (index "+": after {@link FileName}'s NAME). Not thread-safe: picocli fills it once.
 */
public final class ByteRange {
    @Parameters(index = "+", paramLabel = "OFFSET", converter = SizeConverter.class, description = "start in bytes")
    long offset;

    @Parameters(index = "+", paramLabel = "LEN", converter = SizeConverter.class, description = "length in bytes")
    long length;
}
