package dionode.loadgen;

import dionode.loadgen.soak.SoakCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code load-gen}: the seed's benchmarks ({@code seed}), custom load ({@code run}) and the soak ({@code soak}) against a dionode node. */
@Command(name = "load-gen", mixinStandardHelpOptions = true, version = "dionode load-gen 0.1.0",
        subcommands = {SeedCommand.class, RunCommand.class, SoakCommand.class, CommandLine.HelpCommand.class},
        description = {"Benchmark and experiment driver for dionode.",
            "  seed  the seed's Test 1 and Test 2 tables for the three lock policies (and the raw device)",
            "  run   custom load: pattern, block size, alignment, read/write mix, NOWAIT share, open-loop rate",
            "  soak  verified traffic, unlink churn, full device and fuzzed frames at once; fsck and read-back after"})
public final class LoadGen implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
    }

    /** One line naming what went wrong (the stack trace with LOADGEN_DEBUG set); exit 2 for a bad argument, else 1. */
    static int failed(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        cmd.getErr().println();
        cmd.getErr().println("load-gen " + cmd.getCommandName() + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        if (System.getenv("LOADGEN_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
        }
        return e instanceof IllegalArgumentException ? 2 : 1;
    }

    public static void main(String[] args) {
        // The embedded node logs at INFO to stderr; keep stderr for the progress bar unless asked.
        if (System.getProperty("DIONODE_LOG_LEVEL") == null && System.getenv("DIONODE_LOG_LEVEL") == null) {
            System.setProperty("DIONODE_LOG_LEVEL", "WARN");
        }
        System.setProperty("java.awt.headless", "true");
        int rc = new CommandLine(new LoadGen()).setUsageHelpWidth(110).setExecutionExceptionHandler(LoadGen::failed)
                .execute(args);
        System.exit(rc);
    }
}
