package dionode.protocol.wire;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.util.DefaultClassResolver;

/**
 * Kryo's class resolver without class names: a body that names a class (Kryo's NAME id followed
 * by a class name) is refused before the name is read, even when it names a registered class.
 * {@code registrationRequired} alone does not do this: {@link DefaultClassResolver#readClass}
 * looks the name up with {@code Class.forName} and accepts it when the class is registered, and
 * keeps the name for later bodies decoded by the same Kryo. Confined to its Kryo instance.
 */
final class RegisteredOnlyClassResolver extends DefaultClassResolver {

    @Override
    protected Registration readName(Input input) {
        throw new KryoException("a class named on the wire is refused: messages carry registered class ids only");
    }
}
