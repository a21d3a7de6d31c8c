package dionode.loadgen.soak;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a soak counted: requests by kind and outcome ({@code ok}, an errno name, {@code timeout},
 * {@code lost}), fuzzed connections by case and ending, named events (ENOSPC cycles, unlink
 * rounds, ...), and the failures that make it FAIL: every one counted, grouped by their text with
 * the numbers left out (so one bug met a thousand times is one line with its count), the first
 * message of the first {@value #KEPT_FAILURES} groups kept. Thread-safe: any activity thread
 * counts at any time.
 */
final class Tally {
    static final int KEPT_FAILURES = 40;

    private final Map<String, Map<String, LongAdder>> requests = new ConcurrentHashMap<>();
    private final Map<String, Map<String, LongAdder>> fuzz = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> events = new ConcurrentHashMap<>();
    /** The first message of each kind and outcome other than ok: what an errno was about. */
    private final Map<String, String> examples = new ConcurrentHashMap<>();
    /** Failure text without its numbers to the first such failure's text and how many there were. */
    private final Map<String, Failure> failures = new LinkedHashMap<>();
    private long failureCount;

    /** A group of failures: the first one's text, and how many. */
    record Failure(String first, long count) {
        @Override
        public String toString() {
            return count == 1 ? first : count + "x " + first;
        }
    }

    /** Counts the answer's outcome, and keeps its message if it is the first of its kind and outcome. */
    void request(String kind, Answer<?> a) {
        add(requests, kind, a.outcome());
        if (!a.ok()) {
            examples.putIfAbsent(kind + " " + a.outcome(), a.detail());
        }
    }

    /** "kind outcome" to the first message seen for it, sorted. */
    Map<String, String> examples() {
        return new TreeMap<>(examples);
    }

    void fuzzed(String kase, String ending) {
        add(fuzz, kase, ending);
    }

    void event(String name) {
        events(name, 1);
    }

    void events(String name, long n) {
        events.computeIfAbsent(name, k -> new LongAdder()).add(n);
    }

    long event(String name, long orElse) {
        LongAdder a = events.get(name);
        return a == null ? orElse : a.sum();
    }

    /** Something the node must not do (or the soak could not check): the run FAILs. */
    synchronized void fail(String reason) {
        failureCount++;
        String key = reason.replaceAll("\\d+", "#");
        Failure f = failures.get(key);
        if (f != null) {
            failures.put(key, new Failure(f.first(), f.count() + 1));
        } else if (failures.size() < KEPT_FAILURES) {
            failures.put(key, new Failure(reason, 1));
        }
    }

    synchronized long failureCount() {
        return failureCount;
    }

    /** The groups in the order their first failure came. */
    synchronized List<Failure> failures() {
        return List.copyOf(failures.values());
    }

    Map<String, Map<String, Long>> requests() {
        return snapshot(requests);
    }

    Map<String, Map<String, Long>> fuzz() {
        return snapshot(fuzz);
    }

    Map<String, Long> events() {
        Map<String, Long> out = new TreeMap<>();
        events.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** The requests of {@code kind} that ended with {@code outcome}. */
    long requests(String kind, String outcome) {
        Map<String, LongAdder> m = requests.get(kind);
        LongAdder a = m == null ? null : m.get(outcome);
        return a == null ? 0 : a.sum();
    }

    /** Fuzzed connections, over every case, that ended with {@code ending}. */
    long fuzzedEnding(String ending) {
        return fuzz.values().stream().mapToLong(m -> m.containsKey(ending) ? m.get(ending).sum() : 0).sum();
    }

    private static void add(Map<String, Map<String, LongAdder>> to, String kind, String outcome) {
        to.computeIfAbsent(kind, k -> new ConcurrentHashMap<>()).computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }

    private static Map<String, Map<String, Long>> snapshot(Map<String, Map<String, LongAdder>> from) {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        from.forEach((k, m) -> {
            Map<String, Long> inner = new TreeMap<>();
            m.forEach((o, a) -> inner.put(o, a.sum()));
            out.put(k, inner);
        });
        return out;
    }
}
