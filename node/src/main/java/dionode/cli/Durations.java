package dionode.cli;

import java.time.Duration;
import java.util.Locale;

/** Parses durations like {@code 30s}, {@code 500ms}, {@code 2m}, {@code 1h} (a bare number is seconds). Stateless. */
public final class Durations {
    private Durations() {
    }

    public static Duration parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        int i = 0;
        while (i < t.length() && Character.isDigit(t.charAt(i))) {
            i++;
        }
        String unit = t.substring(i).trim();
        try {
            long v = Long.parseLong(t.substring(0, i));
            Duration d = switch (unit) {
                case "ms" -> Duration.ofMillis(v);
                case "", "s" -> Duration.ofSeconds(v);
                case "m", "min" -> Duration.ofMinutes(v);
                case "h" -> Duration.ofHours(v);
                default -> null;
            };
            if (d != null && !d.isZero()) {
                return d;
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // said below
        }
        throw new IllegalArgumentException("not a duration: '" + s + "' (examples: 30s, 500ms, 2m)");
    }

    /** picocli converter. */
    public static final class Converter implements picocli.CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parse(value);
        }
    }
}
