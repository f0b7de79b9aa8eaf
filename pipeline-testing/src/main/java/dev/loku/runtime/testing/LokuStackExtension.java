package dev.loku.runtime.testing;

import dev.loku.runtime.embedded.EmbeddedStack;
import dev.loku.runtime.embedded.StackEndpoints;
import dev.loku.runtime.serde.RegistrySerdes;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives integration tests a real broker and a real registry: one {@link EmbeddedStack} per test JVM, started on
 * first use, shared by every test class, stopped when the JUnit run ends (it lives in the root context's store, which
 * closes {@link AutoCloseable} values). Tests ask for it by parameter type, in test methods, constructors or
 * {@code @BeforeAll} methods:
 * <ul>
 *   <li>{@link StackEndpoints}: bootstrap servers and registry URLs;</li>
 *   <li>{@link RegistrySerdes}: registry-backed value serdes for catalogue topics;</li>
 *   <li>{@link EmbeddedStack}: the stack itself.</li>
 * </ul>
 * <pre>{@code
 * @WithLokuStack
 * class IngestIT {
 *     @Test
 *     void acceptsARequest(StackEndpoints stack, RegistrySerdes serdes) { ... }
 * }
 * }</pre>
 * Every catalogue topic exists; topics are not auto-created, so a test that needs its own creates it
 * ({@link TestTopics}). If the stack cannot start (no registry distribution, no Java 21+), every test asking for it
 * fails with the reason, and the start is not retried.
 */
public final class LokuStackExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LokuStackExtension.class);

    /**
     * Apicurio's client advises, through java.util.logging straight to stderr, to bring one's own Vert.x instance;
     * its default shared one is fine for tests. Held here because JUL keeps loggers only weakly.
     */
    private static final java.util.logging.Logger VERTX_ADVICE =
            java.util.logging.Logger.getLogger("io.apicurio.registry.client.common");

    static {
        VERTX_ADVICE.setLevel(java.util.logging.Level.SEVERE);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == StackEndpoints.class || type == RegistrySerdes.class || type == EmbeddedStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        EmbeddedStack stack = stack(context);
        Class<?> type = parameter.getParameter().getType();
        if (type == StackEndpoints.class) {
            return stack.endpoints();
        }
        if (type == RegistrySerdes.class) {
            return stack.serdes();
        }
        return stack;
    }

    /** The JVM's shared stack, started on first call. */
    public static EmbeddedStack stack(ExtensionContext context) {
        SharedStack shared = context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(SharedStack.class, key -> SharedStack.start(), SharedStack.class);
        return shared.get();
    }

    /** The stack, or why it could not be started; closed by JUnit at the end of the run. */
    static final class SharedStack implements AutoCloseable {
        private final EmbeddedStack stack;
        private final RuntimeException failure;

        private SharedStack(EmbeddedStack stack, RuntimeException failure) {
            this.stack = stack;
            this.failure = failure;
        }

        static SharedStack start() {
            try {
                return new SharedStack(EmbeddedStack.start(), null);
            } catch (RuntimeException e) {
                return new SharedStack(null, e);
            }
        }

        EmbeddedStack get() {
            if (failure != null) {
                throw new ParameterResolutionException("the embedded Kafka + schema registry stack could not start: "
                        + failure.getMessage(), failure);
            }
            return stack;
        }

        @Override
        public void close() {
            if (stack != null) {
                stack.close();
            }
        }
    }
}
