package dionode.cli.client;

import dionode.protocol.client.NodeApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

/** {@code dionode chmod NAME MODE}. */
@Command(name = "chmod", mixinStandardHelpOptions = true,
        description = {"Set file NAME's permission and setuid/setgid bits to octal MODE (e.g. 0644, 4755). "
            + "A setuid/setgid file takes the exclusive lock for every direct write (not IS_NOSEC)."})
public final class ChmodCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Parameters(index = "1", paramLabel = "MODE", converter = OctalMode.class, description = "octal mode, at most 7777")
    int mode;

    @Override
    protected int run(NodeApi client) {
        await(client.chmod(resolve(client, fileName.name), mode));
        return 0;
    }

    /** picocli converter: an octal mode in 0..07777. */
    public static final class OctalMode implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                int mode = Integer.parseInt(value, 8);
                if (mode >= 0 && mode <= 07777 && !value.startsWith("-") && !value.startsWith("+")) {
                    return mode;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new TypeConversionException("not an octal mode in 0..7777: '" + value + "'");
        }
    }
}
