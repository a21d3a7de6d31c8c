package dionode.cli.client;

import dionode.protocol.client.NodeClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

/** {@code dionode chmod NAME MODE}. */
@Command(name = "chmod", mixinStandardHelpOptions = true,
        description = {"Set file NAME's permission and setuid/setgid bits to octal MODE (e.g. 0644, 4755). "
            + "A setuid/setgid file takes the exclusive lock for every direct write (not IS_NOSEC)."})
public final class ChmodCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "file name")
    String name;

    @Parameters(index = "1", paramLabel = "MODE", converter = OctalMode.class, description = "octal mode, at most 7777")
    int mode;

    @Override
    protected int run(NodeClient client) {
        await(client.chmod(resolve(client, name), mode));
        return 0;
    }

    /** picocli converter: an octal mode in 0..07777. */
    public static final class OctalMode implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                int m = Integer.parseInt(value, 8);
                if (m >= 0 && m <= 07777 && !value.startsWith("-") && !value.startsWith("+")) {
                    return m;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new TypeConversionException("not an octal mode in 0..7777: '" + value + "'");
        }
    }
}
