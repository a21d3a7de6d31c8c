package dionode.cli.client;

import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Reply.FiemapExtent;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dionode fiemap NAME}: every extent of a file, like {@code filefrag -v}. */
@Command(name = "fiemap", mixinStandardHelpOptions = true,
        description = {"List file NAME's extents, asking again from the end of each reply until the extent flagged last. "
            + "Human output is like filefrag -v, in fs blocks. --json prints one list, in bytes:",
            "[{\"logical\":B,\"physical\":B,\"length\":B,",
            "  \"flags\":[\"last\",\"unwritten\",\"merged\"]},...]"})
public final class FiemapCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "file name")
    String name;

    @Option(names = "--json", description = "print one JSON list")
    boolean json;

    @Override
    protected int run(NodeClient client) {
        FileId file = resolve(client, name);
        List<FiemapExtent> extents = client.fiemapAll(file);
        if (json) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < extents.size(); i++) {
                FiemapExtent e = extents.get(i);
                b.append(i > 0 ? "," : "").append("{\"logical\":").append(e.logical()).append(",\"physical\":").append(e.physical())
                        .append(",\"length\":").append(e.length()).append(",\"flags\":[");
                List<String> flags = flags(e.flags());
                for (int k = 0; k < flags.size(); k++) {
                    b.append(k > 0 ? "," : "").append('"').append(flags.get(k)).append('"');
                }
                b.append("]}");
            }
            System.out.println(b.append(']'));
        } else {
            Reply.FileStat s = await(client.stat(file));
            long bs = s.blockSize();
            System.out.printf("File size of %s is %d (%d block%s of %d bytes)%n", s.name(), s.size(), s.blocks(),
                    s.blocks() == 1 ? "" : "s", bs);
            System.out.println(" ext:     logical_offset:        physical_offset: length: flags:");
            for (int i = 0; i < extents.size(); i++) {
                FiemapExtent e = extents.get(i);
                long l = e.logical() / bs;
                long p = e.physical() / bs;
                long n = e.length() / bs;
                System.out.printf("%4d: %10d..%10d: %10d..%10d: %6d: %s%n", i, l, l + n - 1, p, p + n - 1, n,
                        String.join(",", flags(e.flags())));
            }
            System.out.printf("%s: %d extent%s found%n", s.name(), extents.size(), extents.size() == 1 ? "" : "s");
        }
        System.out.flush();
        return 0;
    }

    /** Flag names in bit order; unknown bits as hex. */
    static List<String> flags(int flags) {
        List<String> names = new ArrayList<>();
        int rest = flags;
        if ((flags & FiemapExtent.LAST) != 0) {
            names.add("last");
            rest &= ~FiemapExtent.LAST;
        }
        if ((flags & FiemapExtent.UNWRITTEN) != 0) {
            names.add("unwritten");
            rest &= ~FiemapExtent.UNWRITTEN;
        }
        if ((flags & FiemapExtent.MERGED) != 0) {
            names.add("merged");
            rest &= ~FiemapExtent.MERGED;
        }
        if (rest != 0) {
            names.add(String.format("0x%x", rest));
        }
        return names;
    }
}
