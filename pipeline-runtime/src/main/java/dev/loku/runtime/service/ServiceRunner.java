package dev.loku.runtime.service;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Service} as a process's main activity: starts it and its {@link ServiceHttpServer}, then waits
 * until SIGTERM/Ctrl-C (a shutdown hook stops the service cleanly) or until the service fails for good. Every
 * {@code loku serve X} uses it:
 *
 * <pre>{@code
 * int exit = ServiceRunner.run(new IngestService(config), config.common().httpPort());
 * }</pre>
 */
public final class ServiceRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceRunner.class);
    private static final Duration CHECK_EVERY = Duration.ofMillis(500);

    private ServiceRunner() {
    }

    /**
     * Blocks until the process is told to stop (returns 0) or the service fails (returns 1).
     *
     * @throws Exception when the service or the HTTP server cannot start
     */
    public static int run(Service service, int httpPort) throws Exception {
        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch signalled = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            signalled.countDown();
            LOG.info("event=service_stopping service={} cause=signal", service.name());
            try {
                // Let the main thread close things in order; wait so the JVM does not exit under it.
                stopped.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "loku-shutdown-" + service.name());
        Runtime.getRuntime().addShutdownHook(hook);
        try (ServiceHttpServer http = ServiceHttpServer.start(service, httpPort)) {
            service.start();
            LOG.info("event=service_started service={} http_port={}", service.name(), http.port());
            while (!signalled.await(CHECK_EVERY.toMillis(), TimeUnit.MILLISECONDS)) {
                Health h = service.health();
                if (h.status() == Health.Status.FAILED) {
                    LOG.error("event=service_failed service={} reason=\"{}\"", service.name(), h.reason());
                    return 1;
                }
            }
            return 0;
        } finally {
            service.stop();
            LOG.info("event=service_stopped service={}", service.name());
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook is running
            }
        }
    }
}
