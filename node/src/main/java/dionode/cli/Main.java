package dionode.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dionode}: the node, its admin commands and the client commands. */
@Command(name = "dionode", mixinStandardHelpOptions = true, version = "dionode 0.1.0",
        description = "A storage node for networked direct-I/O writers, with ext4's shared-i_rwsem DIO locking in user space.",
        subcommands = {ServeCommand.class, MkfsCommand.class, FsckCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new Main());
        ClientCommands.register(cl);
        int code = cl.execute(args);
        System.exit(code);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
    }
}
