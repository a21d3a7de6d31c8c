package dionode.protocol.wire;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/**
 * A Kryo input over one frame body that judges every declared string and byte-array length
 * against the bytes the body still holds, before anything of that size is allocated: a 30-byte
 * body declaring a string of 2^30 characters is refused, not answered with a 2 GiB array. Every
 * character takes at least one byte in Kryo's string encoding and every array element one byte,
 * so a length above the bytes left cannot be honest. Not thread-safe (one decode at a time, like
 * any Kryo input).
 */
final class BoundedInput extends Input {

    BoundedInput(byte[] buffer, int offset, int length) {
        super(buffer, offset, length);
    }

    @Override
    public String readString() {
        checkDeclaredChars(this, position < limit ? buffer[position] : 0);
        return super.readString();
    }

    @Override
    public StringBuilder readStringBuilder() {
        checkDeclaredChars(this, position < limit ? buffer[position] : 0);
        return super.readStringBuilder();
    }

    @Override
    public byte[] readBytes(int length) {
        checkBytes(this, length);
        return super.readBytes(length);
    }

    /** Refuses a byte array longer than what is left of the body. */
    static void checkBytes(Input in, int length) {
        int left = in.limit() - in.position();
        if (length < 0 || length > left) {
            throw new KryoException("a byte array of " + Integer.toUnsignedString(length) + " bytes does not fit the "
                    + left + " bytes left in the frame");
        }
    }

    /**
     * Kryo's strings: when the first byte has its 0x80 bit set, a char count + 1 follows as a
     * varint (0 null, 1 empty) and the reader allocates that many chars at once; otherwise the
     * string is ASCII up to a byte with the 0x80 bit, read within the buffer.
     */
    static void checkDeclaredChars(Input in, byte first) {
        if (in.position() >= in.limit() || (first & 0x80) == 0) {
            return;
        }
        int start = in.position();
        long chars = Integer.toUnsignedLong(in.readVarIntFlag(true)) - 1;
        long left = in.limit() - in.position();
        in.setPosition(start);
        if (chars > left) {
            throw new KryoException("a string of " + chars + " characters does not fit the " + left + " bytes left in the frame");
        }
    }
}
