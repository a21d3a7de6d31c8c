package dionode.cli.client;

import dionode.cli.common.Json;
import dionode.cli.option.SizeConverter;
import dionode.protocol.client.NodeApi;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dionode explain NAME --offset N --length N}: why a direct write would take the lock it takes. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Ask the node how it would decide the lock for a direct write of --length bytes at --offset of file NAME "
            + "now (ext4_dio_write_checks), without writing: the policy, whether the write is unaligned or extending, each "
            + "extent lookup and its answer, needs_zeroing, the rule (the write_rule_* counter a real write moves), the lock, "
            + "whether it would drain direct I/O in flight (inode_dio_wait) or hold the lock until its I/O is done "
            + "(force-wait), and what the write would get now. --nowait asks for a NOWAIT write: cache-only lookups, and "
            + "EAGAIN where it would block. --json prints one object:",
            "{\"name\":S,\"policy\":S,\"offset\":N,\"length\":N,\"nowait\":B,\"size\":N,\"disksize\":N,\"nosec\":B,",
            " \"unaligned\":B,\"extending\":B,\"lookups\":[{\"lblk\":N,\"max_len\":N,\"state\":S,\"len\":N},...],",
            " \"needs_zeroing\":B,\"rule\":S,\"lock\":\"shared\"|\"exclusive\",\"inode_dio_wait\":B,\"force_wait\":B,",
            " \"dio_in_flight\":N,\"lock_now\":S,\"hole_blocks\":N,\"eagain\":B,\"answer\":S}"})
public final class ExplainCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Option(names = "--offset", required = true, paramLabel = "N", converter = SizeConverter.class, description = "the write's offset")
    long offset;

    @Option(names = "--length", required = true, paramLabel = "N", converter = SizeConverter.class, description = "the write's length")
    long length;

    @Option(names = "--nowait", description = "a NOWAIT write (RWF_NOWAIT): cache-only lookups, EAGAIN instead of waiting")
    boolean nowait;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    protected int run(NodeApi client) {
        Reply.Explanation e = await(client.explain(resolve(client, fileName.name), offset, length, nowait));
        System.out.println(json ? json(fileName.name, e) : human(fileName.name, e));
        System.out.flush();
        return 0;
    }

    static String json(String name, Reply.Explanation e) {
        List<String> lookups = new ArrayList<>();
        for (Reply.ExtentAnswer a : e.lookups()) {
            lookups.add("{\"lblk\":" + a.lblk() + ",\"max_len\":" + a.maxLen() + ",\"state\":" + Json.str(a.state()) + ",\"len\":"
                    + a.len() + "}");
        }
        return "{\"name\":" + Json.str(name) + ",\"policy\":" + Json.str(e.policy().cliName()) + ",\"offset\":" + e.offset()
                + ",\"length\":" + e.length() + ",\"nowait\":" + e.nowait() + ",\"size\":" + e.size() + ",\"disksize\":"
                + e.disksize() + ",\"nosec\":" + e.nosec() + ",\"unaligned\":" + e.unaligned() + ",\"extending\":" + e.extending()
                + ",\"lookups\":[" + String.join(",", lookups) + "],\"needs_zeroing\":" + e.needsZeroing() + ",\"rule\":"
                + Json.str(e.rule()) + ",\"lock\":" + Json.str(e.lock()) + ",\"inode_dio_wait\":" + e.inodeDioWait()
                + ",\"force_wait\":" + e.forceWait() + ",\"dio_in_flight\":" + e.dioInFlight() + ",\"lock_now\":"
                + Json.str(e.lockNow()) + ",\"hole_blocks\":" + e.holeBlocks() + ",\"eagain\":" + e.eagain() + ",\"answer\":"
                + Json.str(e.answer()) + "}";
    }

    static String human(String name, Reply.Explanation e) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("write of %d bytes at %d to %s%s, policy %s%n", e.length(), e.offset(), name,
                e.nowait() ? " (NOWAIT)" : "", e.policy().cliName()));
        out.append(String.format("  file:           size %d, disksize %d, %s%n", e.size(), e.disksize(),
                e.nosec() ? "no setuid/setgid bits (nosec)" : "setuid/setgid bits to clear"));
        out.append(String.format("  unaligned:      %s%n  extending:      %s%n", yes(e.unaligned()), yes(e.extending())));
        for (Reply.ExtentAnswer a : e.lookups()) {
            out.append(String.format("  lookup:         blocks %d..%d -> %s%n", a.lblk(), a.lblk() + a.maxLen() - 1,
                    a.state().equals(Reply.ExtentAnswer.NOT_CACHED) ? a.state() : a.state() + ", " + a.len() + " blocks"));
        }
        out.append(String.format("  needs_zeroing:  %s%n  rule:           %s%n  lock:           %s%n", yes(e.needsZeroing()), e.rule(),
                e.lock()));
        out.append(String.format("  drain:          %s (inode_dio_wait; %d direct I/O in flight)%n", yes(e.inodeDioWait()),
                e.dioInFlight()));
        out.append(String.format("  force-wait:     %s%n  lock now:       %s%n", yes(e.forceWait()), e.lockNow()));
        out.append(String.format("  holes:          %s%n", e.holeBlocks() < 0 ? "not known from memory" : e.holeBlocks() + " blocks to allocate"));
        out.append(String.format("  answer:         %s", e.answer()));
        return out.toString();
    }

    private static String yes(boolean value) {
        return value ? "yes" : "no";
    }
}
