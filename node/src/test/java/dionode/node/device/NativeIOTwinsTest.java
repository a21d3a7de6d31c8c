package dionode.node.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the fault-injecting twins honest: every {@link NativeIO} implementation among the test
 * classes declares (itself or through a class it extends, such as {@link ForwardingNativeIO})
 * every method of {@code NativeIO}, abstract and default alike. A method left to the interface's
 * default would run without the twin seeing it: a fault not injected, a write not tracked.
 */
class NativeIOTwinsTest {
    @Test
    void everyTwinDeclaresEveryNativeIoMethod() throws Exception {
        List<Class<?>> twins = twinsInTheTests();
        Set<String> names = new TreeSet<>();
        twins.forEach(twin -> names.add(twin.getName()));
        assertTrue(names.containsAll(Set.of(FaultyNativeIO.class.getName(), ForwardingNativeIO.class.getName(),
                "dionode.node.crash.PowerCutIO")), () -> "the scan of the test classes found only " + names);
        List<String> leftToTheInterface = new ArrayList<>();
        for (Class<?> twin : twins) {
            for (Method method : interfaceMethods()) {
                if (!declaredBelowTheInterface(twin, method)) {
                    leftToTheInterface.add(twin.getSimpleName() + "." + method.getName()
                            + Arrays.toString(method.getParameterTypes()));
                }
            }
        }
        assertEquals(List.of(), leftToTheInterface, "NativeIO methods a twin does not declare");
    }

    /** NativeIO's instance methods: the abstract ones and the defaults. */
    private static List<Method> interfaceMethods() {
        return Arrays.stream(NativeIO.class.getMethods()).filter(method -> !Modifier.isStatic(method.getModifiers())).toList();
    }

    /** Whether {@code twin} or a class it extends (not an interface) declares a body for {@code method}. */
    private static boolean declaredBelowTheInterface(Class<?> twin, Method method) {
        for (Class<?> type = twin; type != null && type != Object.class; type = type.getSuperclass()) {
            try {
                Method declared = type.getDeclaredMethod(method.getName(), method.getParameterTypes());
                if (!Modifier.isAbstract(declared.getModifiers())) {
                    return true;
                }
            } catch (NoSuchMethodException e) {
                // not in this class: look in its superclass
            }
        }
        return false;
    }

    /** Every class compiled from the tests (this class's own output directory) that implements NativeIO. */
    private static List<Class<?>> twinsInTheTests() throws IOException, URISyntaxException, ClassNotFoundException {
        Path root = Path.of(NativeIOTwinsTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> classNames;
        try (Stream<Path> files = Files.walk(root)) {
            classNames = files.filter(file -> file.toString().endsWith(".class"))
                    .map(file -> root.relativize(file).toString().replace(root.getFileSystem().getSeparator(), "."))
                    .map(name -> name.substring(0, name.length() - ".class".length()))
                    .filter(name -> !name.endsWith("module-info") && !name.endsWith("package-info"))
                    .toList();
        }
        List<Class<?>> twins = new ArrayList<>();
        ClassLoader loader = NativeIOTwinsTest.class.getClassLoader();
        for (String name : classNames) {
            Class<?> type = Class.forName(name, false, loader);
            if (NativeIO.class.isAssignableFrom(type) && !type.isInterface()) {
                twins.add(type);
            }
        }
        return twins;
    }
}
