package dionode.loadgen.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.FileId;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The model the soak judges every read and the read-back by: it must find every wrong byte. */
class FileModelTest {
    private final FileModel m = new FileModel("f", 42, new FileId(3, 1), 64 << 10, 64 << 10, 8192);

    @Test
    void acknowledgedBytesMatchAndAnyOtherByteIsAMismatch() {
        int seq = m.nextSeq();
        byte[] written = m.bytes(4608, 14336, seq);
        m.acknowledged(4608, 14336, seq);
        byte[] read = new byte[32 << 10]; // [0, 32 KiB): zeros, then the write at 4608, then zeros
        System.arraycopy(written, 0, read, 4608, written.length);
        FileModel.Check ok = m.compare(0, read);
        assertNull(ok.mismatch());
        assertEquals(32 << 10, ok.compared());
        assertEquals(14336, ok.acknowledged());

        read[4608 + 9000] ^= 1;
        FileModel.Check bad = m.compare(0, read);
        assertNotNull(bad.mismatch());
        assertTrue(bad.mismatch().contains("at byte " + (4608 + 9000 / 512 * 512)), bad.mismatch());
        assertTrue(bad.mismatch().contains("write #" + seq), bad.mismatch());
    }

    @Test
    void aLaterWriteReplacesTheEarlierOnesBytesAndZerosAreNotAWrite() {
        int first = m.nextSeq();
        m.acknowledged(0, 4096, first);
        int second = m.nextSeq();
        m.acknowledged(512, 1024, second);
        byte[] read = m.bytes(0, 4096, first);
        assertNotNull(m.compare(0, read).mismatch(), "the second write's sectors hold its own bytes");
        System.arraycopy(m.bytes(512, 1024, second), 0, read, 512, 1024);
        assertNull(m.compare(0, read).mismatch());
        assertNotNull(m.compare(0, new byte[4096]).mismatch(), "zeros where writes were acknowledged");
    }

    @Test
    void unknownSectorsAreNotJudgedAndTheSizeIsNoLongerClaimed() {
        m.acknowledged(0, 4096, m.nextSeq());
        m.unknown(0, 2048);
        byte[] read = new byte[4096];
        Arrays.fill(read, 0, 2048, (byte) 7);
        FileModel.Check c = m.compare(0, read);
        assertNotNull(c.mismatch(), "the known half still must match");
        assertEquals(-1, m.size());
        System.arraycopy(m.bytes(2048, 2048, 1), 0, read, 2048, 2048);
        assertNull(m.compare(0, read).mismatch());
        assertEquals(2048, m.compare(0, read).compared());
    }

    @Test
    void allocatedMeansFallocatedOrHoldingAnAcknowledgedSector() {
        assertTrue(m.allocated(0, 8192), "the fallocated first 8 KiB");
        assertFalse(m.allocated(4096, 8192), "the block at 8 KiB is a hole");
        m.acknowledged(8192 + 512, 512, m.nextSeq());
        assertTrue(m.allocated(4096, 8192), "a block holding an acknowledged sector");
        assertFalse(m.allocated(16384, 512));
    }
}
