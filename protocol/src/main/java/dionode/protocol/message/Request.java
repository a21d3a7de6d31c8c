package dionode.protocol.message;

import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;

/**
 * Every request a client can send (DESIGN §6). The request id travels in the frame header, not
 * here, so a frame whose body cannot be decoded can still be answered. All records are immutable
 * values; {@code byte[]} fields are owned by the record once built (never mutated after).
 */
public sealed interface Request {

    /** Requests addressed to one inode's actor, through the file handle given out for it. */
    sealed interface InodeRequest extends Request {
        FileId file();

        /** The inode number the handle names (the request's route). */
        default long ino() {
            return file().ino();
        }
    }

    /** Requests served by the namespace (the flat directory). */
    sealed interface NamespaceRequest extends Request {
    }

    /**
     * Create {@code name}; with {@code exclusive} an existing name is EEXIST, otherwise it is
     * opened. {@code policy} null means the node's default.
     */
    record Create(String name, LockPolicy policy, int mode, boolean exclusive) implements NamespaceRequest {
    }

    record Lookup(String name) implements NamespaceRequest {
    }

    record Unlink(String name) implements NamespaceRequest {
    }

    record ListFiles() implements NamespaceRequest {
    }

    /** A write at {@code offset}; {@code flags} are {@link dionode.protocol.IoFlags} bits. */
    record Write(FileId file, long offset, byte[] data, int flags) implements InodeRequest {
    }

    record Read(FileId file, long offset, int length, int flags) implements InodeRequest {
    }

    /** fsync: data and the metadata that reaches it are durable when the reply comes. */
    record Fsync(FileId file) implements InodeRequest {
    }

    /** fallocate(2) mode 0 or FALLOC_FL_KEEP_SIZE: unwritten extents over the holes of the range. */
    record Fallocate(FileId file, long offset, long length, boolean keepSize) implements InodeRequest {
    }

    /** FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE. */
    record PunchHole(FileId file, long offset, long length) implements InodeRequest {
    }

    /**
     * FALLOC_FL_ZERO_RANGE: the range reads as zeros afterwards. With {@code allowUnwritten} whole
     * blocks may become unwritten extents instead of being written with zeros.
     */
    record ZeroRange(FileId file, long offset, long length, boolean allowUnwritten) implements InodeRequest {
    }

    record Truncate(FileId file, long size) implements InodeRequest {
    }

    record Stat(FileId file) implements InodeRequest {
    }

    /** Extents overlapping {@code [offset, offset+length)}; a length of 0 means to the end of the file. */
    record Fiemap(FileId file, long offset, long length) implements InodeRequest {
    }

    /** Sets the permission and setuid/setgid bits (07777). */
    record Chmod(FileId file, int mode) implements InodeRequest {
    }

    record GetStats() implements Request {
    }
}
