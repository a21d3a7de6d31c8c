package dionode.cli.option;

import dionode.protocol.util.HostPort;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The value of {@code --target HOST:PORT[,HOST:PORT...]}: one node, or several members of one
 * cluster, in the order given. Immutable.
 */
public record HostPorts(List<HostPort> all) {
    public HostPorts {
        if (all.isEmpty()) {
            throw new IllegalArgumentException("expected HOST:PORT, got nothing");
        }
        all = List.copyOf(all);
    }

    /** Comma-separated addresses, each as {@link HostPort#parse} takes it. */
    public static HostPorts parse(String value) {
        List<HostPort> all = new ArrayList<>();
        for (String one : value.split(",", -1)) {
            all.add(HostPort.parse(one.trim()));
        }
        return new HostPorts(all);
    }

    public HostPort first() {
        return all.get(0);
    }

    @Override
    public String toString() {
        return all.stream().map(HostPort::toString).collect(Collectors.joining(","));
    }
}
