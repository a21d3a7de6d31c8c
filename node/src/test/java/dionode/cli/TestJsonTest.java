package dionode.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reader the CLI and load-gen tests check output with: the types their assertions compare against. */
class TestJsonTest {
    @Test
    void wholeNumbersAreLongsOthersDoublesAndKeysKeepTheirOrder() {
        Map<String, Object> object = TestJson.object("{\"z\":1,\"a\":-2,\"big\":9007199254740993,\"iops\":2000.4,"
                + "\"e\":1e3,\"s\":\"t\\u00e9\\n\",\"ok\":true,\"none\":null,\"list\":[1,{}]}\n");
        assertEquals(List.of("z", "a", "big", "iops", "e", "s", "ok", "none", "list"), List.copyOf(object.keySet()));
        assertEquals(1L, object.get("z"));
        assertEquals(-2L, object.get("a"));
        assertEquals(9007199254740993L, object.get("big"));
        assertEquals(2000.4, assertInstanceOf(Double.class, object.get("iops")));
        assertEquals(1000.0, assertInstanceOf(Double.class, object.get("e")));
        assertEquals("té\n", object.get("s"));
        assertEquals(true, object.get("ok"));
        assertNull(object.get("none"));
        assertEquals(List.of(1L, Map.of()), object.get("list"));
    }

    @Test
    void duplicateKeysTrailingTextAndBrokenJsonAreRefused() {
        for (String bad : List.of("{\"a\":1,\"a\":2}", "{\"a\":1} {}", "[1,]", "{\"a\":}", "")) {
            assertThrows(IllegalArgumentException.class, () -> TestJson.parse(bad), bad);
        }
    }
}
