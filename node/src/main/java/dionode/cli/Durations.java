package dionode.cli;

import dionode.cli.option.UsageErrors;
import java.time.Duration;
import java.util.Locale;

/** Parses durations like {@code 30s}, {@code 500ms}, {@code 2m}, {@code 1h} (a bare number is seconds). Stateless. */
public final class Durations {
    private Durations() {
    }

    public static Duration parse(String text) {
        String spec = text.trim().toLowerCase(Locale.ROOT);
        int digitsEnd = 0;
        while (digitsEnd < spec.length() && Character.isDigit(spec.charAt(digitsEnd))) {
            digitsEnd++;
        }
        String unit = spec.substring(digitsEnd).trim();
        try {
            long amount = Long.parseLong(spec.substring(0, digitsEnd));
            Duration duration = switch (unit) {
                case "ms" -> Duration.ofMillis(amount);
                case "", "s" -> Duration.ofSeconds(amount);
                case "m", "min" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> null;
            };
            if (duration != null && !duration.isZero()) {
                return duration;
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // said below
        }
        throw new IllegalArgumentException("not a duration: '" + text + "' (examples: 30s, 500ms, 2m)");
    }

    /** picocli converter: a bad duration is a usage error. */
    public static final class Converter implements picocli.CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return UsageErrors.parse(value, Durations::parse);
        }
    }
}
