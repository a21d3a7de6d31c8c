package dionode.protocol.wire;

/** A frame body that cannot be decoded into a known message. */
public final class MalformedFrameException extends Exception {
    public MalformedFrameException(String message, Throwable cause) {
        super(message, cause);
    }

    public MalformedFrameException(String message) {
        super(message);
    }
}
