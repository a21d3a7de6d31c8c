package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.cli.CliRunner.Result;
import org.junit.jupiter.api.Test;

/**
 * A value an option's parser refuses is a usage error (exit 2) whose first line is the parser's
 * message in the user's terms: picocli printed sizes and durations with the parser's class name
 * ({@code cannot convert 'lots' to long (java.lang.IllegalArgumentException: ...)}) until the
 * converters turned the parser's error into a conversion error. Each is refused before any
 * device is opened or node contacted.
 */
class BadOptionValuesTest {
    private static void refused(String firstLine, String... args) {
        Result result = CliRunner.run(args);
        assertEquals(2, result.code(), result::toString);
        assertEquals(firstLine, result.stderr().lines().findFirst().orElse(""), result::toString);
    }

    @Test
    void sizes() {
        refused("Invalid value for option '--offset': not a size: 'lots' (examples: 4096, 64K, 512M, 1G)",
                "get", "f", "--offset", "lots");
        refused("Invalid value for option '--size': not a size: '1Q' (examples: 4096, 64K, 512M, 1G)",
                "mkfs", "--device", "target/never-created.img", "--size", "1Q");
        refused("Invalid value for positional parameter at index 1 (SIZE): not a size: '-5' (examples: 4096, 64K, 512M, 1G)",
                "truncate", "f", "-5");
        refused("Invalid value for positional parameter at index 2 (LEN): not a size: '2x' (examples: 4096, 64K, 512M, 1G)",
                "fallocate", "f", "0", "2x");
        refused("Invalid value for option '--es-cache': the extent cache needs at least 64K, not 32K",
                "serve", "--es-cache", "32K");
        refused("Invalid value for option '--es-cache': not a size: 'big' (examples: 4096, 64K, 512M, 1G)",
                "serve", "--es-cache", "big");
        refused("Invalid value for option '--loop-spin': not a loop spin: 'soon' (examples: 60us, 1ms, 0)",
                "serve", "--loop-spin", "soon");
        refused("Invalid value for option '--loop-spin': a loop spin of 1s is outside 0..10ms",
                "serve", "--loop-spin", "1s");
    }

    @Test
    void durations() {
        refused("Invalid value for option '--frame-timeout': not a duration: '3x' (examples: 30s, 500ms, 2m)",
                "serve", "--frame-timeout", "3x");
    }

    @Test
    void targets() {
        refused("Invalid value for option '--target': expected HOST:PORT, got 'nohostport'", "ls", "--target", "nohostport");
        refused("Invalid value for option '--target': port 99999 not in 1..65535 in address 'h:99999'",
                "ls", "--target", "h:99999");
    }
}
