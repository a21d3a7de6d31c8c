package dionode.cli.option;

import java.util.function.Function;
import picocli.CommandLine.TypeConversionException;

/** Runs an option's parser so that a value it refuses is a usage error with the parser's message. Stateless. */
public final class UsageErrors {
    private UsageErrors() {
    }

    /**
     * {@code parser} applied to {@code value}; its {@link IllegalArgumentException} becomes picocli's
     * {@link TypeConversionException}, which prints the message alone (any other exception would be
     * printed with its class name).
     */
    public static <T> T parse(String value, Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
