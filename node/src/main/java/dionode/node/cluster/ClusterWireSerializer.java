package dionode.node.cluster;

import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import dionode.protocol.wire.KryoCodec;
import dionode.protocol.wire.MalformedFrameException;
import dionode.protocol.wire.Wire;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * How requests and replies cross between members: the native protocol's own codec (the same
 * Kryo class table and bounds, so a member decodes what a peer sent as carefully as what a client
 * sent) with the door's envelope around it. Layout of a {@link DoorCommand.RemoteOp}: entity (UTF),
 * caller (UTF), reply-to actor path (UTF), deadline (8 bytes), then the request's frame body. A
 * reply is its frame body alone. Thread-safe (the codec pools its Kryo instances).
 */
public final class ClusterWireSerializer extends SerializerWithStringManifest {
    /** Pekko's id for this serializer: fixed, part of the members' wire format. */
    static final int IDENTIFIER = 707_001;
    private static final String OP = "op";
    private static final String REPLY = "reply";

    private final KryoCodec codec = new KryoCodec(Wire.MAX_IO_BYTES + (1 << 20));
    private final ExtendedActorSystem system;

    public ClusterWireSerializer(ExtendedActorSystem system) {
        this.system = system;
    }

    @Override
    public int identifier() {
        return IDENTIFIER;
    }

    @Override
    public String manifest(Object o) {
        if (o instanceof DoorCommand.RemoteOp) {
            return OP;
        }
        if (o instanceof Reply) {
            return REPLY;
        }
        throw new IllegalArgumentException("not a member-to-member message: " + o.getClass().getName());
    }

    @Override
    public byte[] toBinary(Object o) {
        if (o instanceof Reply reply) {
            return body(reply);
        }
        DoorCommand.RemoteOp op = (DoorCommand.RemoteOp) o;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(op.entity());
            out.writeUTF(op.caller());
            out.writeUTF(resolver().toSerializationFormat(op.replyTo()));
            out.writeLong(op.deadlineMillis());
            out.write(body(op.request()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        try {
            if (REPLY.equals(manifest)) {
                return (Reply) codec.decodeBody(bytes, 0, bytes.length);
            }
            if (!OP.equals(manifest)) {
                throw new NotSerializableException("unknown member-to-member message kind '" + manifest + "'");
            }
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            String entity = in.readUTF();
            String caller = in.readUTF();
            ActorRef<Reply> replyTo = resolver().resolveActorRef(in.readUTF());
            long deadline = in.readLong();
            int at = bytes.length - in.available();
            Request request = codec.decodeRequest(bytes, at, bytes.length - at);
            return new DoorCommand.RemoteOp(entity, request, caller, replyTo, deadline);
        } catch (IOException | MalformedFrameException | ClassCastException e) {
            throw new NotSerializableException("a member sent a message that cannot be read: " + e.getMessage());
        }
    }

    private byte[] body(Object message) {
        byte[] frame = codec.encodeFrame(0, message);
        return Arrays.copyOfRange(frame, Wire.HEADER_BYTES, frame.length);
    }

    private ActorRefResolver resolver() {
        return ActorRefResolver.get(Adapter.toTyped(system));
    }
}
