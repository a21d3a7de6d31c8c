package dionode.cli.client;

import dionode.cli.common.Json;
import dionode.protocol.client.NodeApi;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code dionode stats}: the node's counters. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Print the node's counters as one JSON object on one line, keys as the node names them (sorted), "
            + "e.g. {\"buffered_writes\":0,\"eagain\":1,...,\"write_shared\":3}."})
public final class StatsCommand extends ClientCommand {
    @Override
    protected int run(NodeApi client) {
        Map<String, Long> counters = await(client.stats());
        StringBuilder object = new StringBuilder("{");
        for (Map.Entry<String, Long> counter : counters.entrySet()) {
            object.append(object.length() > 1 ? "," : "").append(Json.str(counter.getKey())).append(':').append(counter.getValue());
        }
        System.out.println(object.append('}'));
        System.out.flush();
        return 0;
    }
}
