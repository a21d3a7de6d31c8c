package dionode.loadgen.soak;

import dionode.protocol.FileId;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * What one file must hold: for every 512-byte sector, which acknowledged write last covered it
 * (its sequence number; 0 for never, which reads as zeros; {@link #UNKNOWN} when a request's
 * outcome could not be learnt). A write's bytes are a function of (file key, sequence, byte
 * position), so the model is four bytes a sector however much was written. A write that failed is
 * not in the model: the node promises that it changed nothing.
 *
 * <p>Also what is allocated, for the check that a write into allocated space never answers
 * ENOSPC: the first {@link #fallocated()} bytes were fallocated at creation, and a block holding an
 * acknowledged sector is allocated.
 *
 * <p>Thread-safe (synchronized): a writer updates it from its client's reply callbacks.
 */
final class FileModel {
    static final int SECTOR = 512;
    static final int BLOCK = 4096;
    static final int UNKNOWN = -1;

    private final String name;
    private final long key;
    private final int[] sectors;
    private final long fallocated;
    private volatile FileId handle;
    private long size;
    private boolean sizeKnown = true;
    private int lastSeq;

    /** A model of an empty file of up to {@code capacity} bytes, {@code size} long (set by truncate or fallocate). */
    FileModel(String name, long key, FileId handle, long capacity, long size, long fallocated) {
        this.name = name;
        this.key = key;
        this.handle = handle;
        this.sectors = new int[Math.toIntExact((capacity + SECTOR - 1) / SECTOR)];
        this.size = size;
        this.fallocated = fallocated;
    }

    String name() {
        return name;
    }

    long key() {
        return key;
    }

    FileId handle() {
        return handle;
    }

    /** The handle after the node restarted (looked up again). */
    void handle(FileId h) {
        handle = h;
    }

    long capacity() {
        return (long) sectors.length * SECTOR;
    }

    long fallocated() {
        return fallocated;
    }

    /** The file's size, or -1 when a write of unknown outcome may have changed it. */
    synchronized long size() {
        return sizeKnown ? size : -1;
    }

    /** A sequence number for the next write to this file: the bytes of no two writes agree. */
    synchronized int nextSeq() {
        return ++lastSeq;
    }

    /** The bytes of write {@code seq} at {@code offset}. */
    byte[] bytes(long offset, int length, int seq) {
        byte[] b = new byte[length];
        Pattern.fill(b, 0, length, key, seq, offset);
        return b;
    }

    synchronized void acknowledged(long offset, int length, int seq) {
        mark(offset, length, seq);
        size = Math.max(size, offset + length);
    }

    /** A write whose outcome is unknown (no answer, connection lost): its range is not checked, nor the size. */
    synchronized void unknown(long offset, int length) {
        mark(offset, length, UNKNOWN);
        sizeKnown = false;
    }

    /** Past the capacity nothing is modelled (a filler's writes beyond the device's size can only fail). */
    private void mark(long offset, int length, int seq) {
        long from = Math.min(offset / SECTOR, sectors.length);
        long to = Math.min((offset + length) / SECTOR, sectors.length);
        Arrays.fill(sectors, (int) from, (int) to, seq);
    }

    /** Whether every block of the range is allocated: fallocated at creation, or holding an acknowledged sector. */
    synchronized boolean allocated(long offset, int length) {
        for (long b = offset / BLOCK; b * BLOCK < offset + length; b++) {
            if ((b + 1) * BLOCK <= fallocated) {
                continue;
            }
            boolean written = false;
            for (int s = (int) (b * BLOCK / SECTOR); s < (b + 1) * BLOCK / SECTOR && s < sectors.length; s++) {
                written |= sectors[s] > 0;
            }
            if (!written) {
                return false;
            }
        }
        return true;
    }

    /** What a comparison found: bytes compared, of them acknowledged-written, and the first difference (null if none). */
    record Check(long compared, long acknowledged, String mismatch) {
    }

    /** Compares {@code data}, read at {@code offset} (sector aligned), with the model; unknown sectors are skipped. */
    synchronized Check compare(long offset, byte[] data) {
        byte[] want = new byte[SECTOR];
        long compared = 0;
        long acked = 0;
        for (int i = 0; i + SECTOR <= data.length; i += SECTOR) {
            int seq = sectors[(int) ((offset + i) / SECTOR)];
            if (seq == UNKNOWN) {
                continue;
            }
            if (seq == 0) {
                Arrays.fill(want, (byte) 0);
            } else {
                Pattern.fill(want, 0, SECTOR, key, seq, offset + i);
                acked += SECTOR;
            }
            if (!Arrays.equals(want, 0, SECTOR, data, i, i + SECTOR)) {
                return new Check(compared, acked, name + " at byte " + (offset + i) + ": want "
                        + (seq == 0 ? "zeros (never written)" : "write #" + seq) + ", read "
                        + describe(data, i));
            }
            compared += SECTOR;
        }
        return new Check(compared, acked, null);
    }

    private static String describe(byte[] data, int at) {
        boolean zeros = true;
        for (int i = at; i < at + SECTOR; i++) {
            zeros &= data[i] == 0;
        }
        return zeros ? "zeros" : "other bytes " + HexFormat.of().formatHex(data, at, at + 16) + "...";
    }
}
