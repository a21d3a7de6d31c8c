package dionode.cli;

import dionode.cli.client.ChmodCommand;
import dionode.cli.client.ExplainCommand;
import dionode.cli.client.FallocateCommand;
import dionode.cli.client.FiemapCommand;
import dionode.cli.client.GetCommand;
import dionode.cli.client.LsCommand;
import dionode.cli.client.MembersCommand;
import dionode.cli.client.PunchCommand;
import dionode.cli.client.PutCommand;
import dionode.cli.client.RmCommand;
import dionode.cli.client.StatCommand;
import dionode.cli.client.StatsCommand;
import dionode.cli.client.SyncCommand;
import dionode.cli.client.TruncateCommand;
import picocli.CommandLine;

/** Registers the client subcommands (put, get, stat, ...) on the dionode command line. */
public final class ClientCommands {
    private ClientCommands() {
    }

    public static void register(CommandLine commandLine) {
        for (Object command : new Object[] {new PutCommand(), new GetCommand(), new StatCommand(), new FiemapCommand(),
            new LsCommand(), new RmCommand(), new TruncateCommand(), new FallocateCommand(), new PunchCommand(),
            new SyncCommand(), new ChmodCommand(), new StatsCommand(), new ExplainCommand(), new MembersCommand()}) {
            commandLine.addSubcommand(command);
        }
    }
}
