package dionode.cli.client;

import dionode.cli.common.Json;
import dionode.protocol.client.NodeClient;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code dionode stats}: the node's counters. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Print the node's counters as one JSON object on one line, keys as the node names them (sorted), "
            + "e.g. {\"buffered_writes\":0,\"eagain\":1,...,\"write_shared\":3}."})
public final class StatsCommand extends ClientCommand {
    @Override
    protected int run(NodeClient client) {
        Map<String, Long> counters = await(client.stats());
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, Long> e : counters.entrySet()) {
            b.append(b.length() > 1 ? "," : "").append(Json.str(e.getKey())).append(':').append(e.getValue());
        }
        System.out.println(b.append('}'));
        System.out.flush();
        return 0;
    }
}
