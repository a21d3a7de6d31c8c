package dionode.loadgen.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a soak counted: requests by kind and outcome ({@code ok}, an errno name, {@code timeout},
 * {@code lost}), fuzzed connections by case and ending, named events (ENOSPC cycles, unlink
 * rounds, ...), and the failures that make it FAIL (every one counted, the first
 * {@value #KEPT_FAILURES} kept word for word). Thread-safe: any activity thread counts at any time.
 */
final class Tally {
    static final int KEPT_FAILURES = 40;

    private final Map<String, Map<String, LongAdder>> requests = new ConcurrentHashMap<>();
    private final Map<String, Map<String, LongAdder>> fuzz = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> events = new ConcurrentHashMap<>();
    /** The first message of each kind and outcome other than ok: what an errno was about. */
    private final Map<String, String> examples = new ConcurrentHashMap<>();
    private final List<String> failures = new ArrayList<>();
    private long failureCount;

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
        if (failures.size() < KEPT_FAILURES) {
            failures.add(reason);
        }
    }

    synchronized long failureCount() {
        return failureCount;
    }

    synchronized List<String> failures() {
        return List.copyOf(failures);
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
