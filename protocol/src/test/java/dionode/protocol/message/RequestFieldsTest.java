package dionode.protocol.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every field of every request record: what is refused, and with which words. */
class RequestFieldsTest {
    private static final FileId F = new FileId(3, 1);

    @Test
    void wellFormedRequestsPass() {
        List<Request> ok = List.of(
                new Request.Create("f", null, 0644, true),
                new Request.Create("f", LockPolicy.ALIGNED_SHARED, 07777, false),
                new Request.Lookup("f"),
                new Request.Unlink("f"),
                new Request.ListFiles(),
                new Request.Write(F, 0, new byte[0], IoFlags.ALL),
                new Request.Read(F, 1L << 40, 0, IoFlags.NOWAIT | IoFlags.BUFFERED),
                new Request.Fsync(F),
                new Request.Fallocate(F, 0, 0, true),
                new Request.PunchHole(F, 4096, 4096),
                new Request.ZeroRange(F, 0, 512, false),
                new Request.Truncate(F, 0),
                new Request.Stat(F),
                new Request.Fiemap(F, 0, 0),
                new Request.Chmod(F, 04755),
                new Request.Explain(F, 512, 1, true),
                new Request.GetStats(),
                new Request.Members());
        for (Request r : ok) {
            assertNull(r.checkFields(), r.toString());
        }
    }

    @Test
    void everyBadFieldIsNamedInTheUsersTerms() {
        Map<Request, String> bad = Map.ofEntries(
                Map.entry(new Request.Create(null, null, 0644, true), "create: the file name is missing"),
                Map.entry(new Request.Create("f", null, 0100644, true),
                        "create: mode 0100644 has bits outside 07777 (permission and setuid/setgid bits)"),
                Map.entry(new Request.Create("f", null, -1, true), "create: mode 037777777777 has bits outside 07777"
                        + " (permission and setuid/setgid bits)"),
                Map.entry(new Request.Lookup(null), "lookup: the file name is missing"),
                Map.entry(new Request.Unlink(null), "unlink: the file name is missing"),
                Map.entry(new Request.Write(null, 0, new byte[1], 0), "write: the file handle is missing"),
                Map.entry(new Request.Write(F, -512, new byte[1], 0), "write offset must not be negative (got -512)"),
                Map.entry(new Request.Write(F, 0, null, 0), "write data is missing"),
                Map.entry(new Request.Write(F, 0, new byte[1], 0x30),
                        "write: unknown flag bits 0x30 (known: NOWAIT 0x1, ASYNC 0x2, DURABLE 0x4, BUFFERED 0x8)"),
                Map.entry(new Request.Read(null, 0, 1, 0), "read: the file handle is missing"),
                Map.entry(new Request.Read(F, -1, 1, 0), "read offset must not be negative (got -1)"),
                Map.entry(new Request.Read(F, 0, -4096, 0), "read length must not be negative (got -4096)"),
                Map.entry(new Request.Read(F, 0, 1, 1 << 31),
                        "read: unknown flag bits 0x80000000 (known: NOWAIT 0x1, ASYNC 0x2, DURABLE 0x4, BUFFERED 0x8)"),
                Map.entry(new Request.Fsync(null), "fsync: the file handle is missing"),
                Map.entry(new Request.Fallocate(null, 0, 1, false), "fallocate: the file handle is missing"),
                Map.entry(new Request.Fallocate(F, -1, 1, false), "fallocate offset must not be negative (got -1)"),
                Map.entry(new Request.Fallocate(F, 0, -1, false), "fallocate length must not be negative (got -1)"),
                Map.entry(new Request.PunchHole(null, 0, 1), "punch: the file handle is missing"),
                Map.entry(new Request.PunchHole(F, -1, 1), "punch offset must not be negative (got -1)"),
                Map.entry(new Request.PunchHole(F, 0, Long.MIN_VALUE),
                        "punch length must not be negative (got -9223372036854775808)"),
                Map.entry(new Request.ZeroRange(null, 0, 1, true), "zero-range: the file handle is missing"),
                Map.entry(new Request.ZeroRange(F, -1, 1, true), "zero-range offset must not be negative (got -1)"),
                Map.entry(new Request.ZeroRange(F, 0, -1, true), "zero-range length must not be negative (got -1)"),
                Map.entry(new Request.Truncate(null, 0), "truncate: the file handle is missing"),
                Map.entry(new Request.Truncate(F, -4096), "truncate size must not be negative (got -4096)"),
                Map.entry(new Request.Stat(null), "stat: the file handle is missing"),
                Map.entry(new Request.Fiemap(null, 0, 0), "fiemap: the file handle is missing"),
                Map.entry(new Request.Fiemap(F, -1, 0), "fiemap offset must not be negative (got -1)"),
                Map.entry(new Request.Fiemap(F, 0, -1), "fiemap length must not be negative (got -1)"),
                Map.entry(new Request.Chmod(null, 0644), "chmod: the file handle is missing"),
                Map.entry(new Request.Explain(null, 0, 1, false), "explain: the file handle is missing"),
                Map.entry(new Request.Explain(F, -1, 1, false), "explain offset must not be negative (got -1)"),
                Map.entry(new Request.Explain(F, 0, 0, false), "explain length must be at least 1"),
                Map.entry(new Request.Chmod(F, 010000), "chmod: mode 010000 has bits outside 07777 (permission and setuid/setgid bits)"));
        for (Map.Entry<Request, String> e : bad.entrySet()) {
            assertEquals(e.getValue(), e.getKey().checkFields(), e.getKey().toString());
        }
    }

    @Test
    void theFirstBadFieldIsReported() {
        assertEquals("write: the file handle is missing", new Request.Write(null, -1, null, -1).checkFields());
        assertEquals("write offset must not be negative (got -1)", new Request.Write(F, -1, null, 0).checkFields());
    }
}
