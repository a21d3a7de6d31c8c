package dionode.cli.client;

import dionode.cli.common.Json;
import dionode.protocol.client.NodeApi;
import dionode.protocol.message.Reply;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dionode stat NAME}: a file's inode attributes and layout. */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = {"Show file NAME's inode: size, disksize, blocks, mode, lock policy, times and extent layout. "
            + "--json prints one object, mode as an octal string (setuid/setgid included, e.g. \"4755\"):",
            "{\"ino\":N,\"generation\":N,\"name\":S,\"size\":N,\"disksize\":N,\"blocks\":N,\"block_size\":N,",
            " \"mode\":\"0644\",\"policy\":\"zeroing-aware\",\"mtime_ns\":N,\"ctime_ns\":N,",
            " \"layout\":{\"extents\":N,\"written_blocks\":N,\"unwritten_blocks\":N}, \"owner\":S}"})
public final class StatCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    protected int run(NodeApi client) {
        Reply.FileStat stat = await(client.stat(resolve(client, fileName.name)));
        System.out.println(json ? json(stat) : human(stat));
        System.out.flush();
        return 0;
    }

    /** The mode as a 4-digit octal string, e.g. {@code 0644} or {@code 4755}. */
    static String mode(int mode) {
        return String.format("%04o", mode & 07777);
    }

    static String json(Reply.FileStat stat) {
        Reply.Layout layout = stat.layout();
        return "{\"ino\":" + stat.file().ino() + ",\"generation\":" + Integer.toUnsignedString(stat.file().generation())
                + ",\"name\":" + Json.str(stat.name()) + ",\"size\":" + stat.size()
                + ",\"disksize\":" + stat.disksize() + ",\"blocks\":" + stat.blocks() + ",\"block_size\":" + stat.blockSize()
                + ",\"mode\":" + Json.str(mode(stat.mode()))
                + ",\"policy\":" + (stat.policy() == null ? "null" : Json.str(stat.policy().cliName()))
                + ",\"mtime_ns\":" + stat.mtimeNanos() + ",\"ctime_ns\":" + stat.ctimeNanos()
                + ",\"layout\":{\"extents\":" + layout.extents() + ",\"written_blocks\":" + layout.writtenBlocks()
                + ",\"unwritten_blocks\":" + layout.unwrittenBlocks() + "},\"dax\":" + stat.dax()
                + ",\"owner\":" + Json.str(stat.owner()) + ",\"mapping\":" + Json.str(stat.mapping())
                + ",\"volume\":" + Json.str(stat.volume()) + ",\"node\":" + Json.str(stat.node() == null ? "" : stat.node()) + "}";
    }

    static String human(Reply.FileStat stat) {
        Reply.Layout layout = stat.layout();
        return String.format("  File: %s%n Inode: %-12d Policy: %s%s%n  Size: %-12d Disksize: %-12d Blocks: %d (of %d bytes)%n"
                        + "  Mode: %s  Owner: %s%nLayout: %d extents, %d written blocks, %d unwritten blocks%nModify: %s%nChange: %s"
                + "%nVolume: %s%n  Node: %s",
                stat.name(), stat.file().ino(), stat.policy(), (stat.dax() ? "  DAX" : "") + ("indirect".equals(stat.mapping()) ? "  no extents (indirect)" : ""), stat.size(), stat.disksize(), stat.blocks(), stat.blockSize(),
                mode(stat.mode()), stat.owner(), layout.extents(), layout.writtenBlocks(), layout.unwrittenBlocks(), time(stat.mtimeNanos()),
                time(stat.ctimeNanos()), stat.volume().isEmpty() ? "-" : stat.volume(),
                stat.node() == null || stat.node().isEmpty() ? "-" : stat.node());
    }

    private static String time(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L)).toString();
    }
}
