package dionode.loadgen;

import java.util.Locale;
import picocli.CommandLine;

/** Sizes and counts with an optional k/m/g suffix (powers of 1024): {@code 8k}, {@code 14336}, {@code 2m}. Stateless. */
public final class Sizes implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        return parse(value);
    }

    public static long parse(String value) {
        String s = value.trim().toLowerCase(Locale.ROOT);
        long mult = 1;
        if (s.endsWith("k")) {
            mult = 1L << 10;
        } else if (s.endsWith("m")) {
            mult = 1L << 20;
        } else if (s.endsWith("g")) {
            mult = 1L << 30;
        }
        if (mult != 1) {
            s = s.substring(0, s.length() - 1);
        }
        return Math.multiplyExact(Long.parseLong(s), mult);
    }
}
