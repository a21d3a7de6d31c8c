package dionode.protocol.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;

/**
 * Serializers for the messages of every data request (a write, a read and their replies, and
 * the file handle in them), written by hand: Kryo's record serializer builds each record through
 * reflection, which was a tenth of the node's time at 32 requests in flight. The bytes are exactly
 * the record serializer's (components in name order; ints and longs as zigzag varints; a byte
 * array as its length + 1, 0 for null; a nested record behind a not-null byte), so the wire does
 * not change; {@code DataPathSerializersTest} holds them to it. A byte array longer than what is
 * left of the frame is refused before anything is allocated for it. Stateless; thread-safe.
 */
final class DataPathSerializers {
    private DataPathSerializers() {
    }

    /** The hand-written serializer of {@code type}, or null. */
    static Serializer<?> of(Class<?> type) {
        if (type == Request.Write.class) {
            return new WriteSerializer();
        }
        if (type == Request.Read.class) {
            return new ReadSerializer();
        }
        if (type == Reply.Written.class) {
            return new WrittenSerializer();
        }
        if (type == Reply.Data.class) {
            return new DataSerializer();
        }
        if (type == FileId.class) {
            return new FileIdSerializer();
        }
        return null;
    }

    /**
     * The exact bytes the serializer of a message carrying data writes (a write, a read's reply),
     * so its frame can be encoded into an array of its final size; -1 for any other message.
     */
    static int bodyBytes(Object message) {
        if (message instanceof Request.Write w) {
            return bytesLength(w.data()) + fileLength(w.file()) + Output.varIntLength(w.flags(), false)
                    + Output.varLongLength(w.offset(), false);
        }
        if (message instanceof Reply.Data d) {
            return bytesLength(d.data());
        }
        return -1;
    }

    private static int bytesLength(byte[] bytes) {
        return bytes == null ? 1 : Output.varIntLength(bytes.length + 1, true) + bytes.length;
    }

    private static int fileLength(FileId file) {
        return file == null ? 1 : 1 + Output.varIntLength(file.generation(), false) + Output.varLongLength(file.ino(), false)
                + Output.varLongLength(file.volume(), false);
    }

    private static void writeBytes(Output out, byte[] bytes) {
        if (bytes == null) {
            out.writeVarInt(0, true);
        } else {
            out.writeVarInt(bytes.length + 1, true);
            out.writeBytes(bytes);
        }
    }

    private static byte[] readBytes(Input in) {
        int lengthPlusOne = in.readVarInt(true);
        if (lengthPlusOne == 0) {
            return null;
        }
        int length = lengthPlusOne - 1;
        BoundedInput.checkBytes(in, length);
        return in.readBytes(length);
    }

    private static void writeFile(Output out, FileId file) {
        if (file == null) {
            out.writeByte(Kryo.NULL);
        } else {
            out.writeByte(Kryo.NOT_NULL);
            writeFileFields(out, file);
        }
    }

    private static void writeFileFields(Output out, FileId file) {
        out.writeVarInt(file.generation(), false);
        out.writeVarLong(file.ino(), false);
        out.writeVarLong(file.volume(), false);
    }

    private static FileId readFile(Input in) {
        return in.readByte() == Kryo.NULL ? null : readFileFields(in);
    }

    private static FileId readFileFields(Input in) {
        int generation = in.readVarInt(false);
        long ino = in.readVarLong(false);
        return new FileId(ino, generation, in.readVarLong(false));
    }

    /** Write(file, offset, data, flags), in name order: data, file, flags, offset. */
    private static final class WriteSerializer extends Serializer<Request.Write> {
        @Override
        public void write(Kryo kryo, Output out, Request.Write w) {
            writeBytes(out, w.data());
            writeFile(out, w.file());
            out.writeVarInt(w.flags(), false);
            out.writeVarLong(w.offset(), false);
        }

        @Override
        public Request.Write read(Kryo kryo, Input in, Class<? extends Request.Write> type) {
            byte[] data = readBytes(in);
            FileId file = readFile(in);
            int flags = in.readVarInt(false);
            return new Request.Write(file, in.readVarLong(false), data, flags);
        }
    }

    /** Read(file, offset, length, flags), in name order: file, flags, length, offset. */
    private static final class ReadSerializer extends Serializer<Request.Read> {
        @Override
        public void write(Kryo kryo, Output out, Request.Read r) {
            writeFile(out, r.file());
            out.writeVarInt(r.flags(), false);
            out.writeVarInt(r.length(), false);
            out.writeVarLong(r.offset(), false);
        }

        @Override
        public Request.Read read(Kryo kryo, Input in, Class<? extends Request.Read> type) {
            FileId file = readFile(in);
            int flags = in.readVarInt(false);
            int length = in.readVarInt(false);
            return new Request.Read(file, in.readVarLong(false), length, flags);
        }
    }

    private static final class WrittenSerializer extends Serializer<Reply.Written> {
        @Override
        public void write(Kryo kryo, Output out, Reply.Written w) {
            out.writeVarLong(w.bytes(), false);
        }

        @Override
        public Reply.Written read(Kryo kryo, Input in, Class<? extends Reply.Written> type) {
            return new Reply.Written(in.readVarLong(false));
        }
    }

    private static final class DataSerializer extends Serializer<Reply.Data> {
        @Override
        public void write(Kryo kryo, Output out, Reply.Data d) {
            writeBytes(out, d.data());
        }

        @Override
        public Reply.Data read(Kryo kryo, Input in, Class<? extends Reply.Data> type) {
            return new Reply.Data(readBytes(in));
        }
    }

    /** A file handle at the top of a body (nested in a message it is behind a not-null byte). */
    private static final class FileIdSerializer extends Serializer<FileId> {
        FileIdSerializer() {
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output out, FileId file) {
            writeFileFields(out, file);
        }

        @Override
        public FileId read(Kryo kryo, Input in, Class<? extends FileId> type) {
            return readFileFields(in);
        }
    }
}
