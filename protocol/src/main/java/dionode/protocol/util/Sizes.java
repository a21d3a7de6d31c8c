package dionode.protocol.util;

import java.util.Locale;

/**
 * Parses byte sizes and counts as the tools take them: {@code 4096}, {@code 8k}, {@code 64K},
 * {@code 512M}, {@code 1G}, {@code 2T}, {@code 64KiB}, {@code 1GB} (suffixes are powers of 1024,
 * any case). Here rather than in one command line because the dionode CLI and load-gen both take
 * sizes and both depend on protocol, and a client of its own may take them too. Stateless.
 */
public final class Sizes {
    private Sizes() {
    }

    /**
     * The number of bytes {@code text} names.
     *
     * @throws IllegalArgumentException naming the text, for anything but a non-negative whole
     *         number with an optional K, M, G or T suffix, or a value past {@code Long.MAX_VALUE}
     */
    public static long parse(String text) {
        String digits = text.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        long multiplier = 1;
        if (!digits.isEmpty()) {
            int shift = switch (digits.charAt(digits.length() - 1)) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                default -> -1;
            };
            if (shift >= 0) {
                multiplier = 1L << shift;
                digits = digits.substring(0, digits.length() - 1);
            }
        }
        try {
            long value = Long.parseLong(digits.trim());
            if (value < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(value, multiplier);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 4096, 64K, 512M, 1G)");
        }
    }
}
