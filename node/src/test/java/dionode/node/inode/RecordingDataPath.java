package dionode.node.inode;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The real data path, recording every device range it touches, for the checks that nothing was
 * read or written through a bad extent. Each range is {start byte, end byte, 1 for a write or 0 for
 * a read}. Thread-safe.
 */
public final class RecordingDataPath implements DataPath {
    public final List<long[]> ranges = new CopyOnWriteArrayList<>();
    private final DataPath real;

    public RecordingDataPath(DataPath real) {
        this.real = real;
    }

    @Override
    public CompletableFuture<Void> write(List<WriteSeg> segs) {
        segs.forEach(s -> ranges.add(new long[] {s.deviceOffset(), s.deviceOffset() + s.length(), 1}));
        return real.write(segs);
    }

    @Override
    public CompletableFuture<Void> read(List<ReadSeg> segs) {
        segs.forEach(s -> ranges.add(new long[] {s.deviceOffset(), s.deviceOffset() + s.length(), 0}));
        return real.read(segs);
    }
}
