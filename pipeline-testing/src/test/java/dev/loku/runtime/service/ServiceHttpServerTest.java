package dev.loku.runtime.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.metrics.ServiceMetrics;
import dev.loku.runtime.testing.PrometheusText;
import java.util.Map;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class ServiceHttpServerTest {

    static final class FakeService implements Service {
        volatile Health health = Health.of(Health.Status.DOWN, "no partitions assigned");
        final ServiceMetrics metrics = new ServiceMetrics("fake");

        @Override
        public String name() {
            return "fake";
        }

        @Override
        public void start() {
        }

        @Override
        public void stop() {
        }

        @Override
        public Health health() {
            return health;
        }

        @Override
        public ServiceMetrics metrics() {
            return metrics;
        }
    }

    @Test
    void healthIs200OnlyWhenUpAndMetricsAreInTheTextFormat() throws Exception {
        FakeService service = new FakeService();
        HttpClient http = HttpClient.newHttpClient();
        try (ServiceHttpServer server = ServiceHttpServer.start(service, 0)) {
            String base = "http://127.0.0.1:" + server.port();
            HttpResponse<String> down = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, down.statusCode());
            assertEquals("DOWN: no partitions assigned\n", down.body());

            service.health = Health.up();
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());

            service.metrics.deadLetter();
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            assertEquals(ServiceMetrics.CONTENT_TYPE, metrics.headers().firstValue("Content-Type").orElseThrow());
            assertEquals(1.0, PrometheusText.parse(metrics.body()).value("loku_dead_letters_total",
                    Map.of("service", "fake")), metrics.body());

            assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(base + "/health"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(base + "/nope")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }
}
