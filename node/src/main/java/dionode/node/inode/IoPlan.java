package dionode.node.inode;

import dionode.node.extent.Mapping;
import dionode.node.inode.DataPath.ReadSeg;
import dionode.node.inode.DataPath.WriteSeg;
import dionode.node.lock.ExtentLookup;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a byte range of a file into device I/O, the part of iomap_dio_rw that builds bios: one
 * segment per physically contiguous run, and for a write whose partial head or tail block is
 * unwritten or new, that block written whole with zeros around the data (iomap_dio_zero), so a
 * later reader never sees stale device bytes. Pure and stateless. Thread-safe.
 */
public final class IoPlan {

    /** Segments of a write and how many partial blocks they zero. Immutable. */
    public record Write(List<WriteSeg> segs, int zeroedBlocks) {
    }

    private IoPlan() {
    }

    /**
     * Plans a direct write of {@code len} bytes of {@code src} at {@code offset}; every block of the
     * range must already be allocated (written or unwritten). Blocks from {@code newFrom} on were
     * allocated written by this very write (past EOF, ext4_iomap_alloc's EXT4_GET_BLOCKS_CREATE):
     * their partial ends are zeroed like unwritten ones (iomap's IOMAP_F_NEW), since the device
     * holds stale bytes there. {@code Long.MAX_VALUE} when there are none.
     */
    public static Write write(ExtentLookup map, long offset, byte[] src, int len, int blockSize, long newFrom) {
        long end = offset + len;
        long b0 = offset / blockSize;
        long b1 = (end + blockSize - 1) / blockSize;
        List<WriteSeg> segs = new ArrayList<>();
        int zeroed = 0;
        long lblk = b0;
        while (lblk < b1) {
            Mapping first = map.map(lblk, b1 - lblk);
            if (!first.allocated()) {
                throw new IllegalStateException("write plan over a hole at block " + lblk);
            }
            Mapping last = first;
            long runEnd = first.end();
            while (runEnd < b1) {
                Mapping next = map.map(runEnd, b1 - runEnd);
                if (!next.allocated() || next.pblk() != last.pblk() + last.len()) {
                    break;
                }
                last = next;
                runEnd = next.end();
            }
            long runByteStart = lblk * blockSize;
            long runByteEnd = runEnd * blockSize;
            long dataStart = Math.max(offset, runByteStart);
            long dataEnd = Math.min(end, runByteEnd);
            boolean headZero = dataStart % blockSize != 0 && (!first.written() || dataStart / blockSize >= newFrom);
            boolean tailZero = dataEnd % blockSize != 0 && (!last.written() || dataEnd / blockSize >= newFrom);
            long segStart = headZero ? dataStart - dataStart % blockSize : dataStart;
            long segEnd = tailZero ? dataEnd - dataEnd % blockSize + blockSize : dataEnd;
            if (headZero) {
                zeroed++;
            }
            if (tailZero && !(headZero && (segEnd - segStart) == blockSize)) {
                zeroed++;
            }
            long device = first.pblk() * blockSize + (segStart - runByteStart);
            segs.add(new WriteSeg(device, (int) (segEnd - segStart), src, (int) (dataStart - offset),
                    (int) (dataStart - segStart), (int) (dataEnd - dataStart)));
            lblk = runEnd;
        }
        return new Write(List.copyOf(segs), zeroed);
    }

    /**
     * Plans a read of {@code len} bytes at {@code offset} into {@code dst}: only written blocks
     * are read (holes and unwritten blocks stay zeros in {@code dst}); device ranges are widened
     * to {@code sectorSize} so byte-granular (buffered) reads work too.
     */
    public static List<ReadSeg> read(ExtentLookup map, long offset, byte[] dst, int len, int blockSize, int sectorSize) {
        long end = offset + len;
        long b0 = offset / blockSize;
        long b1 = (end + blockSize - 1) / blockSize;
        List<ReadSeg> segs = new ArrayList<>();
        long lblk = b0;
        while (lblk < b1) {
            Mapping m = map.map(lblk, b1 - lblk);
            if (m.written()) {
                long s = Math.max(offset, m.lblk() * blockSize);
                long e = Math.min(end, m.end() * blockSize);
                long devStart = m.pblk() * blockSize + (s - m.lblk() * blockSize);
                long devEnd = devStart + (e - s);
                long alignedStart = devStart - devStart % sectorSize;
                long alignedEnd = (devEnd + sectorSize - 1) / sectorSize * sectorSize;
                segs.add(new ReadSeg(alignedStart, (int) (alignedEnd - alignedStart), dst, (int) (s - offset),
                        (int) (devStart - alignedStart), (int) (e - s)));
            }
            lblk = m.end();
        }
        return List.copyOf(segs);
    }
}
