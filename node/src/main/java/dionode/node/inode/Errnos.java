package dionode.node.inode;

import dionode.node.extent.ExtentCorruptionException;
import dionode.node.fs.NoSpaceException;
import dionode.node.journal.JournalAbortedException;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the client sees when a step of an inode request throws: the one mapping from an exception
 * to an errno. Corruption and failures nothing expected are logged here. Stateless. Thread-safe.
 */
final class Errnos {
    private static final Logger LOG = LoggerFactory.getLogger(Errnos.class);

    private Errnos() {
    }

    /** The error for {@code thrown} in a request on inode {@code ino}; EFSCORRUPTED means the file is bad. */
    static Reply.Error of(long ino, Throwable thrown) {
        Throwable cause = thrown instanceof CompletionException && thrown.getCause() != null ? thrown.getCause() : thrown;
        if (cause instanceof NoSpaceException) {
            return new Reply.Error(Errno.ENOSPC, cause.getMessage());
        }
        if (cause instanceof JournalAbortedException) {
            return new Reply.Error(Errno.EROFS, "journal aborted after a device error; the node is read-only: " + cause.getMessage());
        }
        if (cause instanceof ExtentCorruptionException) {
            LOG.error("inode {}: {}", ino, cause.getMessage());
            return new Reply.Error(Errno.EFSCORRUPTED, cause.getMessage());
        }
        if (cause instanceof RejectedExecutionException) {
            return new Reply.Error(Errno.EAGAIN, "device queue full");
        }
        if (cause instanceof IOException) {
            return new Reply.Error(Errno.EIO, "device error: " + cause.getMessage());
        }
        LOG.error("inode {}: unexpected failure", ino, cause);
        return new Reply.Error(Errno.EIO, String.valueOf(cause));
    }
}
