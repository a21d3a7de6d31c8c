package dionode.cli.client;

import dionode.cli.common.Json;
import dionode.protocol.client.NodeApi;
import dionode.protocol.message.Reply;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dionode members}: the cluster's members as the node sees them. */
@Command(name = "members", mixinStandardHelpOptions = true,
        description = {"List the cluster's members as the node sees them, one per line: ADDRESS VOLUME STATUS "
            + "reachable|unreachable. STATUS is up, joining, weakly-up, leaving, exiting, down or removed. A node "
            + "started without --cluster-bind lists itself, at its native address.",
            "--json prints one JSON array of objects with fields address, volume, status, reachable."})
public final class MembersCommand extends ClientCommand {
    @Option(names = "--json", description = "one JSON array on one line")
    boolean json;

    @Override
    protected int run(NodeApi client) {
        List<Reply.Member> members = await(client.members());
        if (json) {
            StringBuilder array = new StringBuilder("[");
            for (Reply.Member m : members) {
                array.append(array.length() > 1 ? "," : "").append("{\"address\":").append(Json.str(m.address()))
                        .append(",\"volume\":").append(Json.str(m.volume())).append(",\"status\":").append(Json.str(m.status()))
                        .append(",\"reachable\":").append(m.reachable()).append('}');
            }
            System.out.println(array.append(']'));
        } else {
            for (Reply.Member m : members) {
                System.out.println(m.address() + " " + (m.volume().isEmpty() ? "-" : m.volume()) + " " + m.status() + " "
                        + (m.reachable() ? "reachable" : "unreachable"));
            }
        }
        System.out.flush();
        return 0;
    }
}
