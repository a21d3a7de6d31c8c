package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The options of {@code run} and {@code seed} that are parsed before any node is started or reached. */
class RunOptionsTest {
    @Test
    void ratesAreCountsPerSecondWithOptionalSeconds() {
        LoadEngine.Phase[] phases = RunCommand.parsePhases(List.of("20000/s@10", "1k", " 500/s@2.5s "), 5);
        assertEquals(new LoadEngine.Phase(20000, 10_000_000_000L), phases[0]);
        assertEquals(new LoadEngine.Phase(1024, 5_000_000_000L), phases[1]);
        assertEquals(new LoadEngine.Phase(500, 2_500_000_000L), phases[2]);
    }

    /** A bad rate names the option and the item (it was Long.parseLong's "For input string", then "not a size"). */
    @Test
    void aBadRateIsNamedAsARate() {
        for (String bad : List.of("1x", "500/s@soon", "/s")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RunCommand.parsePhases(List.of(bad), 5), bad);
            assertEquals("--rate wants N[/s][@S] (e.g. 20000/s@10), got '" + bad + "'", e.getMessage());
        }
    }

    @Test
    void targetAndEmbeddedAreRefusedTogetherAndABadTargetIsAUsageError() {
        for (String command : List.of("run", "seed")) {
            assertEquals(List.of("load-gen " + command + ": give --target or --embedded, not both"),
                    failure(2, command, "--target", "127.0.0.1:1", "--embedded"));
            assertEquals("Invalid value for option '--target': expected HOST:PORT, got 'nohostport'",
                    failure(2, command, "--target", "nohostport").get(0));
        }
    }

    /** Checked before any node is started or reached: a node that cannot be measured is a usage error. */
    @Test
    void aNodePidWithNoProcessIsRefused() {
        assertEquals(List.of("load-gen run: --node-pid 999999999: no such process on this machine (cannot read /proc/999999999/stat)"),
                failure(2, "run", "--target", "127.0.0.1:1", "--node-pid", "999999999"));
    }

    /** A warm-up's writes would turn an unwritten or hole layout into another before it is measured. */
    @Test
    void aWarmupIsRefusedOnALayoutItsWritesWouldChange() {
        assertEquals(List.of("load-gen run: --warmup must be 0 or more seconds, and runs only with --layout existing or written "
                + "(the warm-up's writes would change a hole layout before it is measured)"),
                failure(2, "run", "--target", "127.0.0.1:1", "--layout", "hole", "--warmup", "2"));
    }

    /** Buffered I/O has no DAX path and no NOWAIT write: refused before any node is started, naming why. */
    @Test
    void bufferedIsRefusedWithDaxAndWithNowait() {
        assertEquals(List.of("load-gen run: --buffered and --dax exclude each other: a DAX file's requests go through the node's "
                + "mapping of its device whatever their flags, so none would take the buffered path"),
                failure(2, "run", "--target", "127.0.0.1:1", "--buffered", "--dax"));
        assertEquals(List.of("load-gen run: --buffered takes no --nowait-pct (got 10): the node answers a buffered NOWAIT write "
                + "EOPNOTSUPP, as ext4 does"),
                failure(2, "run", "--target", "127.0.0.1:1", "--buffered", "--nowait-pct", "10"));
    }

    /** Runs load-gen as its main does; returns the non-empty lines of stderr after checking the exit status. */
    private static List<String> failure(int status, String... args) {
        StringWriter err = new StringWriter();
        int rc = new CommandLine(new LoadGen()).setExecutionExceptionHandler(LoadGen::failed).setErr(new PrintWriter(err, true))
                .execute(args);
        assertEquals(status, rc, err::toString);
        return err.toString().lines().filter(line -> !line.isEmpty()).toList();
    }
}
