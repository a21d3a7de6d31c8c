package dionode.node.inode;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * How an inode actor moves file data: device reads and writes that run off the actor's thread and
 * complete a future. The one seam between the lock model and the device, so ordering tests can
 * hold an I/O at "after mapping, before device write". Implementations are thread-safe.
 */
public interface DataPath {

    /**
     * One device write: {@code length} bytes at {@code deviceOffset} (sector aligned) whose
     * content is zeros except {@code copyLength} bytes of {@code src} from {@code srcOffset},
     * placed at {@code bufferOffset}: partial-block zeroing (iomap_dio_zero) is the zeros.
     */
    record WriteSeg(long deviceOffset, int length, byte[] src, int srcOffset, int bufferOffset, int copyLength) {
        public boolean zeroPadded() {
            return bufferOffset > 0 || copyLength < length;
        }
    }

    /** One device read of {@code length} bytes (sector aligned) whose bytes {@code [skip, skip+copyLength)} land in {@code dst} at {@code dstOffset}. */
    record ReadSeg(long deviceOffset, int length, byte[] dst, int dstOffset, int skip, int copyLength) {
    }

    CompletableFuture<Void> write(List<WriteSeg> segs);

    CompletableFuture<Void> read(List<ReadSeg> segs);
}
