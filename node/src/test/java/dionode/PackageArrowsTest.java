package dionode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The arrows of DESIGN §9, checked on the main sources of every module: each package imports
 * (or names fully qualified) only the packages the design lets it, and Pekko only where actors and
 * streams live. Comments and string literals do not count. A package the design does not place
 * fails too, so that a new one gets its place there first.
 */
class PackageArrowsTest {

    /** node's packages from the top down: each may import those below it (and protocol). */
    private static final List<String> NODE_LAYERS = List.of("dionode.node.metrics", "dionode.node.nbd", "dionode.node.server",
            "dionode.node.cluster", "dionode.node.namespace", "dionode.node.inode", "dionode.node.cache", "dionode.node.trace", "dionode.node.lock",
            "dionode.node.fs",
            "dionode.node.extent", "dionode.node.alloc", "dionode.node.journal", "dionode.node.meta");
    /** protocol's packages from the top down: each may import those below it, and nothing else. */
    private static final List<String> PROTOCOL_LAYERS = List.of("dionode.protocol.client", "dionode.protocol.wire",
            "dionode.protocol.message", "dionode.protocol", "dionode.protocol.tls", "dionode.protocol.util");
    /** Where actors and streams live; everything else stays plain Java, testable without an ActorSystem. */
    private static final Set<String> MAY_USE_PEKKO = Set.of("dionode.cli", "dionode.node.nbd", "dionode.node.server",
            "dionode.node.cluster", "dionode.node.namespace", "dionode.node.inode");

    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    /** A dionode class named in code: in an import (static too) or fully qualified. */
    private static final Pattern DIONODE_REF = Pattern.compile("\\b(dionode(?:\\.[a-z][a-z0-9_]*)*)\\.[A-Z]");
    private static final Pattern PEKKO_REF = Pattern.compile("\\borg\\.apache\\.pekko\\b");

    /** DESIGN §9 as data: the dionode packages each package may import. */
    static Map<String, Set<String>> allowed() {
        Map<String, Set<String>> allowed = new LinkedHashMap<>();
        Set<String> protocol = Set.copyOf(PROTOCOL_LAYERS);
        for (int i = 0; i < PROTOCOL_LAYERS.size(); i++) {
            allowed.put(PROTOCOL_LAYERS.get(i), Set.copyOf(PROTOCOL_LAYERS.subList(i + 1, PROTOCOL_LAYERS.size())));
        }
        for (int i = 0; i < NODE_LAYERS.size(); i++) {
            Set<String> below = new TreeSet<>(NODE_LAYERS.subList(i + 1, NODE_LAYERS.size()));
            below.add("dionode.node.device");
            below.addAll(protocol);
            allowed.put(NODE_LAYERS.get(i), below);
        }
        // the native I/O interface knows nothing above it, not even the wire's errno
        allowed.put("dionode.node.device", Set.of());
        // the event loops know the device's completion signal only; the transports and the dispatcher wiring run on them
        allowed.put("dionode.node.loop", Set.of("dionode.node.device"));
        allowed.get("dionode.node.server").add("dionode.node.loop");
        allowed.get("dionode.node.nbd").add("dionode.node.loop");
        Set<String> loadGen = new TreeSet<>(protocol);
        // only for --embedded (a node in the same JVM) and the baseline; cli.option for its options
        loadGen.addAll(List.of("dionode.node.server", "dionode.node.device", "dionode.cli.option", "dionode.cli.common",
                "dionode.loadgen.proc"));
        allowed.put("dionode.loadgen.proc", Set.of());
        // the soak runs the node's CLI (dionode.cli.Main) in a JVM of its own
        Set<String> soak = new TreeSet<>(loadGen);
        soak.add("dionode.cli");
        allowed.put("dionode.loadgen.soak", soak);
        loadGen.add("dionode.loadgen.soak");
        allowed.put("dionode.loadgen", loadGen);
        allowed.put("dionode.cli.common", Set.of());
        allowed.put("dionode.cli.option", Set.of("dionode.protocol.util"));
        Set<String> client = new TreeSet<>(protocol);
        client.addAll(List.of("dionode.cli.common", "dionode.cli.option"));
        allowed.put("dionode.cli.client", client);
        Set<String> cli = new TreeSet<>(allowed.keySet());
        cli.add("dionode.cli.client");
        allowed.put("dionode.cli", cli);
        return allowed;
    }

    @Test
    void everyPackageImportsOnlyWhatDesignSection9Allows() throws IOException {
        Map<String, Set<String>> allowed = allowed();
        List<String> violations = new ArrayList<>();
        Map<String, Set<String>> seen = new TreeMap<>();
        for (Path root : sourceRoots()) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    String code = codeOnly(Files.readString(file));
                    Matcher pkg = PACKAGE.matcher(code);
                    if (!pkg.find()) {
                        continue;
                    }
                    String from = pkg.group(1);
                    Set<String> may = allowed.get(from);
                    if (may == null) {
                        violations.add(from + " (" + file.getFileName() + ") has no place in DESIGN §9");
                        continue;
                    }
                    for (String to : referencedPackages(code)) {
                        seen.computeIfAbsent(from, k -> new TreeSet<>()).add(to);
                        if (!to.equals(from) && !may.contains(to)) {
                            violations.add(from + " -> " + to + " (" + root.relativize(file) + ")");
                        }
                    }
                    if (!MAY_USE_PEKKO.contains(from) && PEKKO_REF.matcher(code).find()) {
                        violations.add(from + " -> org.apache.pekko (" + root.relativize(file) + ")");
                    }
                }
            }
        }
        // the scan sees the arrows that hold the node together, so an empty list means something
        assertTrue(seen.getOrDefault("dionode.node.inode", Set.of()).contains("dionode.node.fs"), "scanned: " + seen);
        assertTrue(seen.getOrDefault("dionode.cli", Set.of()).contains("dionode.cli.client"), "scanned: " + seen);
        assertEquals(List.of(), violations, "arrows DESIGN §9 does not draw");
    }

    @Test
    void commentsAndStringsAreNotArrowsButFullyQualifiedNamesAre() {
        String source = """
                package dionode.node.meta;

                import dionode.node.device.BlockDevice;
                import static dionode.node.extent.ExtentFormat.ROOT_MAX;
                /** See {@link dionode.node.journal.Handle} and org.apache.pekko. */
                class Sample { // dionode.node.inode.InodeActor
                    String name = "dionode.node.server.NodeServer";
                    char quote = '"';
                    String block = \"\"\"
                            "dionode.node.namespace.NamespaceActor"
                            \"\"\";
                    int credits = dionode.node.alloc.BlockAllocator.creditsFor(1);
                }
                """;
        String code = codeOnly(source);
        assertEquals(Set.of("dionode.node.device", "dionode.node.extent", "dionode.node.alloc"),
                referencedPackages(code));
        assertFalse(PEKKO_REF.matcher(code).find(), "a comment naming Pekko is not a use of it");
    }

    /** The main source trees of the modules: node's, protocol's, load-gen's. */
    private static List<Path> sourceRoots() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("protocol"))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "the project root (with protocol/, node/, load-gen/) above " + Path.of("").toAbsolutePath());
        List<Path> roots = List.of(dir.resolve("node/src/main/java"), dir.resolve("protocol/src/main/java"),
                dir.resolve("load-gen/src/main/java"));
        for (Path root : roots) {
            assertTrue(Files.isDirectory(root), root + " is a source tree");
        }
        return roots;
    }

    private static Set<String> referencedPackages(String code) {
        Set<String> packages = new TreeSet<>();
        Matcher ref = DIONODE_REF.matcher(code);
        while (ref.find()) {
            packages.add(ref.group(1));
        }
        return packages;
    }

    /** {@code source} with comments and the contents of string and char literals blanked out. */
    static String codeOnly(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int length = source.length();
        int i = 0;
        while (i < length) {
            char at = source.charAt(i);
            char next = i + 1 < length ? source.charAt(i + 1) : 0;
            if (at == '/' && next == '/') {
                while (i < length && source.charAt(i) != '\n') {
                    i++;
                }
            } else if (at == '/' && next == '*') {
                int close = source.indexOf("*/", i + 2);
                i = close < 0 ? length : close + 2;
                out.append(' ');
            } else if (source.startsWith("\"\"\"", i)) {
                int close = i + 3;
                while (close < length && !source.startsWith("\"\"\"", close)) {
                    close += source.charAt(close) == '\\' ? 2 : 1;
                }
                out.append("\"\"");
                i = Math.min(length, close + 3);
            } else if (at == '"' || at == '\'') {
                out.append(at);
                i++;
                while (i < length && source.charAt(i) != at) {
                    i += source.charAt(i) == '\\' ? 2 : 1;
                }
                if (i < length) {
                    out.append(at);
                }
                i++;
            } else {
                out.append(at);
                i++;
            }
        }
        return out.toString();
    }
}
