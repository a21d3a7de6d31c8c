package dionode.cli.option;

import dionode.protocol.util.HostPort;
import picocli.CommandLine.ITypeConverter;

/** picocli converter for a node's {@code HOST:PORT} ({@link HostPort#parse}); a bad one is a usage error. Stateless. */
public final class HostPortConverter implements ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
        return UsageErrors.parse(value, HostPort::parse);
    }
}
