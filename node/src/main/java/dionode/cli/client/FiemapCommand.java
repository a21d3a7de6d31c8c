package dionode.cli.client;

import dionode.protocol.FileId;
import dionode.protocol.client.NodeApi;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Reply.FiemapExtent;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dionode fiemap NAME}: every extent of a file, like {@code filefrag -v}. */
@Command(name = "fiemap", mixinStandardHelpOptions = true,
        description = {"List file NAME's extents, asking again from the end of each reply until the extent flagged last. "
            + "Human output is like filefrag -v, in fs blocks. --json prints one list, in bytes:",
            "[{\"logical\":B,\"physical\":B,\"length\":B,",
            "  \"flags\":[\"last\",\"unwritten\",\"merged\"]},...]"})
public final class FiemapCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Option(names = "--json", description = "print one JSON list")
    boolean json;

    @Override
    protected int run(NodeApi client) {
        FileId file = resolve(client, fileName.name);
        List<FiemapExtent> extents = client.fiemapAll(file);
        if (json) {
            StringBuilder list = new StringBuilder("[");
            for (int i = 0; i < extents.size(); i++) {
                FiemapExtent extent = extents.get(i);
                list.append(i > 0 ? "," : "").append("{\"logical\":").append(extent.logical())
                        .append(",\"physical\":").append(extent.physical())
                        .append(",\"length\":").append(extent.length()).append(",\"flags\":[");
                List<String> flags = flags(extent.flags());
                for (int k = 0; k < flags.size(); k++) {
                    list.append(k > 0 ? "," : "").append('"').append(flags.get(k)).append('"');
                }
                list.append("]}");
            }
            System.out.println(list.append(']'));
        } else {
            Reply.FileStat stat = await(client.stat(file));
            long blockSize = stat.blockSize();
            System.out.printf("File size of %s is %d (%d block%s of %d bytes)%n", stat.name(), stat.size(), stat.blocks(),
                    stat.blocks() == 1 ? "" : "s", blockSize);
            System.out.println(" ext:     logical_offset:        physical_offset: length: flags:");
            for (int i = 0; i < extents.size(); i++) {
                FiemapExtent extent = extents.get(i);
                long logical = extent.logical() / blockSize;
                long physical = extent.physical() / blockSize;
                long blocks = extent.length() / blockSize;
                System.out.printf("%4d: %10d..%10d: %10d..%10d: %6d: %s%n", i, logical, logical + blocks - 1, physical,
                        physical + blocks - 1, blocks, String.join(",", flags(extent.flags())));
            }
            System.out.printf("%s: %d extent%s found%n", stat.name(), extents.size(), extents.size() == 1 ? "" : "s");
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
