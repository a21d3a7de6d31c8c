package dionode.node.journal;

import java.io.IOException;

/**
 * The journal area cannot be trusted (bad journal superblock, or a fully checksummed
 * transaction that points outside the device). Mounting must stop; the message says why.
 *
 * <p>Immutable.
 */
public class JournalCorruptException extends IOException {
    private static final long serialVersionUID = 1L;

    public JournalCorruptException(String message) {
        super(message);
    }
}
