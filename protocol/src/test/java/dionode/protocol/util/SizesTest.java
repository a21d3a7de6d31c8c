package dionode.protocol.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SizesTest {
    @Test
    void takesWhatTheCliAndLoadGenTook() {
        // the dionode CLI's forms
        assertEquals(4096, Sizes.parse("4096"));
        assertEquals(64L << 10, Sizes.parse("64K"));
        assertEquals(64L << 10, Sizes.parse("64KiB"));
        assertEquals(512L << 20, Sizes.parse("512M"));
        assertEquals(1L << 30, Sizes.parse("1G"));
        assertEquals(1L << 30, Sizes.parse("1GB"));
        assertEquals(2L << 40, Sizes.parse("2T"));
        assertEquals(0, Sizes.parse("0"));
        // load-gen's forms: lower case, and the counts of --rate
        assertEquals(8192, Sizes.parse("8k"));
        assertEquals(14336, Sizes.parse("14336"));
        assertEquals(2L << 20, Sizes.parse("2m"));
        assertEquals(20000, Sizes.parse(" 20000 "));
    }

    @Test
    void refusesWithTheTextInTheMessage() {
        for (String bad : new String[] {"", "lots", "1Q", "-5", "1.5G", "K", "9999999999T"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(bad), bad);
            assertEquals("not a size: '" + bad + "' (examples: 4096, 64K, 512M, 1G)", e.getMessage());
        }
    }
}
