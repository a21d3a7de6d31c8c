package dionode.cli;

import picocli.CommandLine;

/** Registers the client subcommands (put, get, stat, ...) on the dionode command line. */
public final class ClientCommands {
    private ClientCommands() {
    }

    public static void register(CommandLine cl) {
    }
}
