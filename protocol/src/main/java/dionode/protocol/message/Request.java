package dionode.protocol.message;

import static dionode.protocol.message.FieldChecks.first;
import static dionode.protocol.message.FieldChecks.ioFlags;
import static dionode.protocol.message.FieldChecks.missing;
import static dionode.protocol.message.FieldChecks.modeBits;
import static dionode.protocol.message.FieldChecks.notNegative;

import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;

/**
 * Every request a client can send (DESIGN §6). The request id travels in the frame header, not
 * here, so a frame whose body cannot be decoded can still be answered. All records are immutable
 * values; {@code byte[]} fields are owned by the record once built (never mutated after).
 *
 * <p>Records accept any field values, because the codec builds them from whatever a peer sent
 * (nulls included): the node judges each with {@link #checkFields()} before acting on it.
 */
public sealed interface Request {

    /**
     * Why a field of this request cannot be acted on (missing, negative, out of range), in the
     * user's terms; null when every field is well-formed. Pure. Whether the request makes sense
     * for the file (alignment, size limits of the file system) is judged where it is served.
     */
    String checkFields();

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
     * opened. {@code policy} null means the node's default. With {@code dax} a new file is a DAX
     * file (its data through the device's mapping; EOPNOTSUPP where the device cannot be mapped);
     * opening an existing file ignores it.
     */
    /**
     * @param dax data through the device's mapping (EXT4_DAX_FL)
     * @param indirect mapped by ext3-style block pointers instead of extents (no EXT4_EXTENTS_FL)
     * @param volume the id of the volume a new file goes on, overriding the cluster's placement; null to place it by name
     */
    record Create(String name, LockPolicy policy, int mode, boolean exclusive, boolean dax, boolean indirect, String volume)
            implements NamespaceRequest {
        /** A file placed by its name. */
        public Create(String name, LockPolicy policy, int mode, boolean exclusive, boolean dax, boolean indirect) {
            this(name, policy, mode, exclusive, dax, indirect, null);
        }

        /** A file of the extent-mapped kind. */
        public Create(String name, LockPolicy policy, int mode, boolean exclusive) {
            this(name, policy, mode, exclusive, false, false, null);
        }

        /** An extent-mapped file, DAX or not. */
        public Create(String name, LockPolicy policy, int mode, boolean exclusive, boolean dax) {
            this(name, policy, mode, exclusive, dax, false, null);
        }

        @Override
        public String checkFields() {
            return first(missing("create: the file name", name), modeBits("create", mode));
        }
    }

    record Lookup(String name) implements NamespaceRequest {
        @Override
        public String checkFields() {
            return missing("lookup: the file name", name);
        }
    }

    record Unlink(String name) implements NamespaceRequest {
        @Override
        public String checkFields() {
            return missing("unlink: the file name", name);
        }
    }

    record ListFiles() implements NamespaceRequest {
        @Override
        public String checkFields() {
            return null;
        }
    }

    /** A write at {@code offset}; {@code flags} are {@link dionode.protocol.IoFlags} bits. */
    record Write(FileId file, long offset, byte[] data, int flags) implements InodeRequest {
        @Override
        public String checkFields() {
            return first(missing("write: the file handle", file), notNegative("write offset", offset),
                    missing("write data", data), ioFlags("write", flags));
        }
    }

    record Read(FileId file, long offset, int length, int flags) implements InodeRequest {
        @Override
        public String checkFields() {
            return first(missing("read: the file handle", file), notNegative("read offset", offset),
                    notNegative("read length", length), ioFlags("read", flags));
        }
    }

    /** fsync: data and the metadata that reaches it are durable when the reply comes. */
    record Fsync(FileId file) implements InodeRequest {
        @Override
        public String checkFields() {
            return missing("fsync: the file handle", file);
        }
    }

    /** fallocate(2) mode 0 or FALLOC_FL_KEEP_SIZE: unwritten extents over the holes of the range. */
    record Fallocate(FileId file, long offset, long length, boolean keepSize) implements InodeRequest {
        @Override
        public String checkFields() {
            return FieldChecks.range("fallocate", file, offset, length);
        }
    }

    /** FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE. */
    record PunchHole(FileId file, long offset, long length) implements InodeRequest {
        @Override
        public String checkFields() {
            return FieldChecks.range("punch", file, offset, length);
        }
    }

    /**
     * FALLOC_FL_ZERO_RANGE: the range reads as zeros afterwards. With {@code allowUnwritten} whole
     * blocks may become unwritten extents instead of being written with zeros.
     */
    record ZeroRange(FileId file, long offset, long length, boolean allowUnwritten) implements InodeRequest {
        @Override
        public String checkFields() {
            return FieldChecks.range("zero-range", file, offset, length);
        }
    }

    record Truncate(FileId file, long size) implements InodeRequest {
        @Override
        public String checkFields() {
            return first(missing("truncate: the file handle", file), notNegative("truncate size", size));
        }
    }

    record Stat(FileId file) implements InodeRequest {
        @Override
        public String checkFields() {
            return missing("stat: the file handle", file);
        }
    }

    /** Extents overlapping {@code [offset, offset+length)}; a length of 0 means to the end of the file. */
    record Fiemap(FileId file, long offset, long length) implements InodeRequest {
        @Override
        public String checkFields() {
            return FieldChecks.range("fiemap", file, offset, length);
        }
    }

    /** Sets the permission and setuid/setgid bits (07777). */
    record Chmod(FileId file, int mode) implements InodeRequest {
        @Override
        public String checkFields() {
            return first(missing("chmod: the file handle", file), modeBits("chmod", mode));
        }
    }

    /**
     * explain: how the node would decide the lock for a direct write of {@code length} bytes at
     * {@code offset} now ({@code ext4_dio_write_checks}), without writing; with {@code nowait}
     * its lookups are cache-only, as a NOWAIT write's are.
     */
    record Explain(FileId file, long offset, long length, boolean nowait) implements InodeRequest {
        @Override
        public String checkFields() {
            return first(FieldChecks.range("explain", file, offset, length), length == 0 ? "explain length must be at least 1" : null);
        }
    }

    record GetStats() implements Request {
        @Override
        public String checkFields() {
            return null;
        }
    }

    /** The cluster's members as this node sees them (a node started without a cluster answers itself). */
    record Members() implements Request {
        @Override
        public String checkFields() {
            return null;
        }
    }
}
