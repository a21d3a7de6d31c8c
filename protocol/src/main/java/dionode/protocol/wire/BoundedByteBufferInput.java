package dionode.protocol.wire;

import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.KryoBufferUnderflowException;
import java.nio.ByteBuffer;

/**
 * {@link BoundedInput}'s limits over a frame body that stays where it arrived (a read-only view
 * of the connection's read), so the node decodes a request without first copying its body into
 * an array of its own: a write's payload is copied once, into the request. Not thread-safe (one
 * decode at a time, like any Kryo input).
 */
final class BoundedByteBufferInput extends ByteBufferInput {

    /** Reads {@code body} from its position to its limit. */
    BoundedByteBufferInput(ByteBuffer body) {
        super(body);
    }

    /** The body is all there is: a message that runs past it is cut short (Kryo would compact the read-only view). */
    @Override
    protected int require(int required) {
        int remaining = limit - position;
        if (remaining < required) {
            throw new KryoBufferUnderflowException("Buffer underflow.");
        }
        return remaining;
    }

    @Override
    public String readString() {
        BoundedInput.checkDeclaredChars(this, position < limit ? byteBuffer.get(position) : 0);
        return super.readString();
    }

    @Override
    public StringBuilder readStringBuilder() {
        BoundedInput.checkDeclaredChars(this, position < limit ? byteBuffer.get(position) : 0);
        return super.readStringBuilder();
    }

    @Override
    public byte[] readBytes(int length) {
        BoundedInput.checkBytes(this, length);
        return super.readBytes(length);
    }
}
