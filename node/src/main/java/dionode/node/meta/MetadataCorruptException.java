package dionode.node.meta;

import java.io.IOException;

/** Metadata read from the device failed validation; the message says what and where. */
public class MetadataCorruptException extends IOException {
    public MetadataCorruptException(String message) {
        super(message);
    }
}
