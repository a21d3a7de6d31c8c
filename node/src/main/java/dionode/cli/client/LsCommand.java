package dionode.cli.client;

import dionode.protocol.Errno;
import dionode.protocol.client.NodeApi;
import dionode.protocol.client.NodeException;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dionode ls}: the node's files. */
@Command(name = "ls", mixinStandardHelpOptions = true,
        description = {"List the node's files, one name per line, sorted by name. "
            + "-l prints 'INO SIZE NAME' per line (files removed while listing are left out)."})
public final class LsCommand extends ClientCommand {
    @Option(names = "-l", description = "long format: inode number, size, name")
    boolean long_;

    @Override
    protected int run(NodeApi client) {
        List<Reply.DirEntry> entries = new ArrayList<>(await(client.list()));
        entries.sort(Comparator.comparing(Reply.DirEntry::name));
        if (!long_) {
            for (Reply.DirEntry entry : entries) {
                System.out.println(entry.name());
            }
        } else {
            Pipeline<Reply.FileStat> window = new Pipeline<>(DEPTH * 8, stat -> {
                if (stat != null) {
                    System.out.printf("%10d %14d %s%n", stat.file().ino(), stat.size(), stat.name());
                }
            });
            for (Reply.DirEntry entry : entries) {
                window.submit(() -> client.stat(entry.file()).exceptionally(LsCommand::gone));
            }
            window.drain();
        }
        System.out.flush();
        return 0;
    }

    /** A file unlinked since the listing (its number maybe reused: ESTALE) is skipped; any other failure stands. */
    private static Reply.FileStat gone(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof NodeException refused && (refused.errno() == Errno.ENOENT || refused.errno() == Errno.ESTALE)) {
            return null;
        }
        throw cause instanceof RuntimeException runtime ? runtime : new CompletionException(cause);
    }
}
