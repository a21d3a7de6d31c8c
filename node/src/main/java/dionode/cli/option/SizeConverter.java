package dionode.cli.option;

import dionode.protocol.util.Sizes;
import picocli.CommandLine.ITypeConverter;

/** picocli converter for byte sizes and counts ({@link Sizes}: 4096, 8k, 64K, 1G); a bad one is a usage error. Stateless. */
public final class SizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        return UsageErrors.parse(value, Sizes::parse);
    }
}
