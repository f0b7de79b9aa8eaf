package dev.loku.runtime.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.loku.runtime.metrics.ServiceMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of a service, on the JDK's built-in server (one thread; scrapes and probes are rare and cheap):
 * <ul>
 *   <li>{@code GET /health}: 200 {@code UP} when the service is up, else 503 with {@code STATUS: reason};</li>
 *   <li>{@code GET /metrics}: the service's metrics in the Prometheus text format.</li>
 * </ul>
 * Anything else is 404; methods other than GET and HEAD are 405.
 */
public final class ServiceHttpServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceHttpServer.class);

    private final HttpServer server;
    private final ExecutorService executor;

    private ServiceHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Serves {@code service} on {@code port} of all interfaces (0: a free port, see {@link #port()}). */
    public static ServiceHttpServer start(Service service, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "loku-http-" + service.name());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/health", exchange -> handle(exchange, () -> {
            Health h = service.health();
            return h.isUp() ? new Response(200, "text/plain; charset=utf-8", "UP\n")
                    : new Response(503, "text/plain; charset=utf-8", h.status() + ": " + h.reason() + "\n");
        }));
        server.createContext("/metrics", exchange -> handle(exchange,
                () -> new Response(200, ServiceMetrics.CONTENT_TYPE, service.metrics().scrape())));
        server.createContext("/", exchange -> handle(exchange,
                () -> new Response(404, "text/plain; charset=utf-8", "not found; try /health or /metrics\n")));
        server.start();
        LOG.info("event=http_started service={} port={}", service.name(), server.getAddress().getPort());
        return new ServiceHttpServer(server, executor);
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private record Response(int status, String contentType, String body) {
    }

    private interface ResponseSupplier {
        Response get();
    }

    private static void handle(HttpExchange exchange, ResponseSupplier supplier) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            Response r;
            if (!method.equals("GET") && !method.equals("HEAD")) {
                r = new Response(405, "text/plain; charset=utf-8", "method not allowed\n");
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            } else {
                try {
                    r = supplier.get();
                } catch (RuntimeException e) {
                    LOG.error("event=http_handler_failed path={} error={}", exchange.getRequestURI().getPath(),
                            e.getClass().getSimpleName());
                    r = new Response(500, "text/plain; charset=utf-8", "internal error\n");
                }
            }
            byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", r.contentType());
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(r.status(), -1);
            } else {
                exchange.sendResponseHeaders(r.status(), body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }
}
