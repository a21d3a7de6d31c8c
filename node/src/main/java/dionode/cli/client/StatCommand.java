package dionode.cli.client;

import dionode.cli.common.Json;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dionode stat NAME}: a file's inode attributes and layout. */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = {"Show file NAME's inode: size, disksize, blocks, mode, lock policy, times and extent layout. "
            + "--json prints one object, mode as an octal string (setuid/setgid included, e.g. \"4755\"):",
            "{\"ino\":N,\"generation\":N,\"name\":S,\"size\":N,\"disksize\":N,\"blocks\":N,\"block_size\":N,",
            " \"mode\":\"0644\",\"policy\":\"zeroing-aware\",\"mtime_ns\":N,\"ctime_ns\":N,",
            " \"layout\":{\"extents\":N,\"written_blocks\":N,\"unwritten_blocks\":N}}"})
public final class StatCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "file name")
    String name;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    protected int run(NodeClient client) {
        Reply.FileStat s = await(client.stat(resolve(client, name)));
        System.out.println(json ? json(s) : human(s));
        System.out.flush();
        return 0;
    }

    /** The mode as a 4-digit octal string, e.g. {@code 0644} or {@code 4755}. */
    static String mode(int mode) {
        return String.format("%04o", mode & 07777);
    }

    static String json(Reply.FileStat s) {
        Reply.Layout l = s.layout();
        return "{\"ino\":" + s.file().ino() + ",\"generation\":" + Integer.toUnsignedString(s.file().generation())
                + ",\"name\":" + Json.str(s.name()) + ",\"size\":" + s.size()
                + ",\"disksize\":" + s.disksize() + ",\"blocks\":" + s.blocks() + ",\"block_size\":" + s.blockSize()
                + ",\"mode\":" + Json.str(mode(s.mode())) + ",\"policy\":" + (s.policy() == null ? "null" : Json.str(s.policy().cliName()))
                + ",\"mtime_ns\":" + s.mtimeNanos() + ",\"ctime_ns\":" + s.ctimeNanos()
                + ",\"layout\":{\"extents\":" + l.extents() + ",\"written_blocks\":" + l.writtenBlocks()
                + ",\"unwritten_blocks\":" + l.unwrittenBlocks() + "}}";
    }

    static String human(Reply.FileStat s) {
        Reply.Layout l = s.layout();
        return String.format("  File: %s%n Inode: %-12d Policy: %s%n  Size: %-12d Disksize: %-12d Blocks: %d (of %d bytes)%n"
                        + "  Mode: %s%nLayout: %d extents, %d written blocks, %d unwritten blocks%nModify: %s%nChange: %s",
                s.name(), s.file().ino(), s.policy(), s.size(), s.disksize(), s.blocks(), s.blockSize(), mode(s.mode()),
                l.extents(), l.writtenBlocks(), l.unwrittenBlocks(), time(s.mtimeNanos()), time(s.ctimeNanos()));
    }

    private static String time(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L)).toString();
    }
}
