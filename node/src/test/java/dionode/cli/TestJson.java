package dionode.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;
import java.util.Map;

/**
 * Reads the JSON the command lines print (dionode's and load-gen's), for the tests, with Jackson:
 * objects as insertion-ordered maps, lists, strings, booleans, null, whole numbers as {@link Long}
 * (the tests' assertions compare against Long) and other numbers as {@link Double}. Strict: a
 * duplicate key or text after the value is an error. Thread-safe.
 */
public final class TestJson {
    private static final ObjectMapper READER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private TestJson() {
    }

    /** The value {@code text} holds. */
    public static Object parse(String text) {
        try {
            return READER.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage() + ": " + text, e);
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(String text) {
        return (Map<String, Object>) parse(text);
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> list(String text) {
        return (List<Map<String, Object>>) parse(text);
    }
}
