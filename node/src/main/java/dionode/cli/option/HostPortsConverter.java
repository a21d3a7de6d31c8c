package dionode.cli.option;

import picocli.CommandLine.ITypeConverter;

/** picocli converter for {@code HOST:PORT[,HOST:PORT...]} ({@link HostPorts#parse}); a bad one is a usage error. Stateless. */
public final class HostPortsConverter implements ITypeConverter<HostPorts> {
    @Override
    public HostPorts convert(String value) {
        return UsageErrors.parse(value, HostPorts::parse);
    }
}
