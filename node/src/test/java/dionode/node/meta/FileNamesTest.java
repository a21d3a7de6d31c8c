package dionode.node.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dionode.node.meta.FileNames.Fault;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The one name rule, on request strings and on stored bytes. */
class FileNamesTest {

    private static Fault bytes(int... b) {
        byte[] a = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            a[i] = (byte) b[i];
        }
        return FileNames.check(a, 0, a.length);
    }

    @Test
    void unpairedSurrogatesHaveNoUtf8AndArePairedOnesFine() {
        assertEquals(Fault.NOT_UTF8, FileNames.check("s\ud800"));
        assertEquals(Fault.NOT_UTF8, FileNames.check("s\udbff"));
        assertEquals(Fault.NOT_UTF8, FileNames.check("\udc00s"));
        assertEquals(Fault.NOT_UTF8, FileNames.check("s\ude00\ud83d"), "a low surrogate before a high one pairs with nothing");
        assertNull(FileNames.check("s\ud83d\ude00"));
        assertNull(FileNames.check("s?"));
        assertNull(FileNames.check("\u20ac \u00e9 \u65e5\u672c"));
    }

    @Test
    void reservedAndImpossibleNames() {
        assertEquals(Fault.EMPTY, FileNames.check(""));
        assertEquals(Fault.DOT, FileNames.check("."));
        assertEquals(Fault.DOT, FileNames.check(".."));
        assertNull(FileNames.check("..."));
        assertNull(FileNames.check("a..b"));
        assertNull(FileNames.check(".hidden"));
        assertEquals(Fault.SLASH, FileNames.check("a/b"));
        assertEquals(Fault.SLASH, FileNames.check("/"));
        assertEquals(Fault.NUL, FileNames.check("a\0b"));
    }

    @Test
    void theLimitCountsUtf8Bytes() {
        assertNull(FileNames.check("x".repeat(InodeRecord.MAX_NAME_BYTES)));
        assertEquals(Fault.TOO_LONG, FileNames.check("x".repeat(InodeRecord.MAX_NAME_BYTES + 1)));
        assertNull(FileNames.check("\u20ac".repeat(InodeRecord.MAX_NAME_BYTES / 3)), "42 euro signs are 126 bytes");
        assertEquals(Fault.TOO_LONG, FileNames.check("\u20ac".repeat(InodeRecord.MAX_NAME_BYTES / 3 + 1)));
    }

    @Test
    void storedBytesMustBeUtf8ThatEncodesBackTheSame() {
        assertNull(bytes('a', 0xe2, 0x82, 0xac));
        assertEquals(Fault.NOT_UTF8, bytes('s', 0xff));
        assertEquals(Fault.NOT_UTF8, bytes('s', 0xed, 0xa0, 0x80), "a surrogate encoded as if it were a character (CESU-8)");
        assertEquals(Fault.NOT_UTF8, bytes(0xc0, 0xaf), "overlong '/'");
        assertEquals(Fault.NOT_UTF8, bytes('s', 0xe2, 0x82), "truncated sequence");
        assertEquals(Fault.NOT_UTF8, bytes(0xf4, 0x90, 0x80, 0x80), "past U+10FFFF");
        assertEquals(Fault.SLASH, bytes('a', '/', 'b'));
        assertEquals(Fault.NUL, bytes('a', 0, 'b'));
        assertEquals(Fault.DOT, bytes('.', '.'));
        assertEquals(Fault.EMPTY, bytes());
    }

    @Test
    void aNameTheRequestRuleAcceptsIsStoredAndReadBackAsItself() {
        for (String name : new String[] {"plain", "s\ud83d\ude00", "\u00e9t\u00e9", "x".repeat(128)}) {
            assertNull(FileNames.check(name));
            byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
            assertNull(FileNames.check(utf8, 0, utf8.length));
            assertEquals(name, FileNames.decode(utf8, 0, utf8.length));
        }
    }

    @Test
    void reportsShowTheStoredBytes() {
        assertEquals("s\\xed\\xa0\\x80/\\x00\\x5c", FileNames.printable(new byte[] {'s', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '/', 0,
                '\\'}));
    }
}
