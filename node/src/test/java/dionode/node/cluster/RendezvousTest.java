package dionode.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rendezvous placement: same answer in any order, names spread, and a leaving volume moves only its own names. */
class RendezvousTest {
    private static final List<String> THREE = List.of("vol-a", "vol-b", "vol-c");

    @Test
    void theOrderOfTheVolumesDoesNotChangeThePick() {
        List<String> reversed = new ArrayList<>(THREE);
        Collections.reverse(reversed);
        for (int i = 0; i < 1000; i++) {
            assertEquals(Rendezvous.pick("file-" + i, THREE), Rendezvous.pick("file-" + i, reversed));
        }
    }

    @Test
    void namesSpreadOverEveryVolume() {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            counts.merge(Rendezvous.pick("file-" + i, THREE), 1, Integer::sum);
        }
        for (String v : THREE) {
            int n = counts.getOrDefault(v, 0);
            assertTrue(n > 800 && n < 1200, v + " got " + n + " of 3000: " + counts);
        }
    }

    @Test
    void aVolumeLeavingMovesOnlyTheNamesItHeld() {
        List<String> two = List.of("vol-a", "vol-c");
        int moved = 0;
        for (int i = 0; i < 3000; i++) {
            String before = Rendezvous.pick("file-" + i, THREE);
            String after = Rendezvous.pick("file-" + i, two);
            if (!before.equals("vol-b")) {
                assertEquals(before, after, "file-" + i + " moved though its volume stayed");
            } else {
                moved++;
            }
        }
        assertTrue(moved > 0);
    }

    @Test
    void thePlacementIsFixedAcrossReleases() {
        // members of different builds must agree: these picks are the wire contract of placement
        StringBuilder picks = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            picks.append(Rendezvous.pick("file-" + i, THREE).substring(4));
        }
        assertEquals("ccbcbcbc", picks.toString());
        assertEquals("vol-b", Rendezvous.pick("x", List.of("vol-b")));
        assertThrows(IllegalArgumentException.class, () -> Rendezvous.pick("x", List.of()));
    }
}
