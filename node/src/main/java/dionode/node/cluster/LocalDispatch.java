package dionode.node.cluster;

import dionode.node.inode.Caller;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.concurrent.CompletionStage;

/** This member's own serving of a request for its own volume (the node's dispatcher, without cluster routing). Thread-safe. */
@FunctionalInterface
public interface LocalDispatch {
    CompletionStage<Reply> dispatchLocal(Request request, Caller caller);
}
