package dionode.node.device;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creation of device files.
 *
 * <p>A device file is written in full with zeros when it is created: a sparse or
 * merely fallocated file makes the host filesystem allocate or convert blocks
 * under our writes, and serialize them under its own inode lock (the host's ext4
 * takes its exclusive lock for such writes) — exactly what the node exists to avoid.
 *
 * <p>Thread-safe (stateless).
 */
public final class DeviceFiles {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceFiles.class);

    /** Device file sizes must be multiples of this. */
    public static final int SIZE_UNIT = 4096;
    /** Bytes per pwrite while zero-filling. */
    static final int CHUNK_BYTES = 8 << 20;

    private DeviceFiles() {
    }

    /**
     * Creates {@code path} holding {@code size} zero bytes, all written through
     * O_DIRECT in aligned 8 MiB chunks, then fdatasync'd (and the directory entry
     * synced). On failure nothing is left behind.
     *
     * @throws IllegalArgumentException unless {@code size} is a positive multiple of 4096
     * @throws FileAlreadyExistsException if {@code path} exists (never overwritten)
     * @throws NativeIOException with EINVAL and an explanation if the filesystem refuses O_DIRECT
     */
    public static void createFullyWritten(Path path, long size, NativeIO io) throws IOException {
        if (size <= 0 || size % SIZE_UNIT != 0) {
            throw new IllegalArgumentException("device file size must be a positive multiple of " + SIZE_UNIT + ": " + size);
        }
        String p = path.toString();
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(p, null, "refusing to overwrite an existing device file");
        }
        Path dir = path.toAbsolutePath().getParent();
        long usable = Files.getFileStore(dir).getUsableSpace();
        if (usable < size) {
            throw new NativeIOException("pwrite", p, NativeIOException.ENOSPC,
                    "need " + size + " bytes, " + usable + " usable in " + dir);
        }
        long start = System.nanoTime();
        int fd;
        try {
            fd = io.open(p, NativeIO.O_RDWR | NativeIO.O_CREAT | NativeIO.O_EXCL | NativeIO.O_DIRECT | NativeIO.O_CLOEXEC, 0644);
        } catch (NativeIOException e) {
            if (e.errno() == NativeIOException.EEXIST) {
                throw new FileAlreadyExistsException(p, null, "refusing to overwrite an existing device file");
            }
            if (e.errno() == NativeIOException.EINVAL) {
                // O_CREAT may have made the file before O_DIRECT was refused; it is ours (O_EXCL) and empty.
                deleteQuietly(path);
                throw BlockDevice.oDirectRefused(p);
            }
            throw e;
        }
        try {
            // allocateDirect memory is zeroed.
            ByteBuffer zeros = AlignedBuffers.allocateAligned((int) Math.min(CHUNK_BYTES, size));
            long done = 0;
            while (done < size) {
                int want = (int) Math.min(zeros.capacity(), size - done);
                long n = io.pwrite(fd, zeros, want, done);
                if (n <= 0) {
                    throw new NativeIOException("pwrite", p, NativeIOException.EIO,
                            "count=" + want + ", offset=" + done + ": wrote nothing");
                }
                done += n;
            }
            io.fdatasync(fd);
        } catch (IOException | RuntimeException | Error e) {
            try {
                io.close(fd);
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            deleteQuietly(path);
            throw e;
        }
        try {
            io.close(fd);
        } catch (IOException e) {
            deleteQuietly(path);
            throw e;
        }
        syncDirectory(dir);
        LOG.info("created device file {}: {} bytes written in {} ms", p, size, (System.nanoTime() - start) / 1_000_000);
    }

    private static void syncDirectory(Path dir) throws IOException {
        // Without this the file's directory entry may not survive a crash even though its data does.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("could not remove incomplete device file {}", path, e);
        }
    }
}
