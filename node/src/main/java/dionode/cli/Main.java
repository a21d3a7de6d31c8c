package dionode.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dionode}: the node, its admin commands and the client commands. */
@Command(name = "dionode", mixinStandardHelpOptions = true, version = "dionode 0.1.0",
        description = "A storage node for networked direct-I/O writers, with ext4's shared-i_rwsem DIO locking in user space.",
        subcommands = {ServeCommand.class, MkfsCommand.class, FsckCommand.class, CertsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        CommandLine commandLine = new CommandLine(new Main());
        ClientCommands.register(commandLine);
        commandLine.setExecutionExceptionHandler(Main::failed);
        int code = commandLine.execute(args);
        System.exit(code);
    }

    /**
     * A command that fails prints one line naming what went wrong (the stack trace only with
     * DIONODE_DEBUG set) and exits 1, or 2 for a bad argument.
     */
    static int failed(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        cmd.getErr().println(cmd.getCommandName() + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        if (System.getenv("DIONODE_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
        }
        return e instanceof IllegalArgumentException ? 2 : 1;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
    }
}
