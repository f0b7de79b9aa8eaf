package dev.loku.runtime.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.runtime.service.Health;
import dev.loku.runtime.service.Service;
import dev.loku.runtime.service.ServiceHttpServer;
import dev.loku.runtime.testing.PrometheusText;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} scraped over HTTP and parsed strictly: the pipeline's {@code loku_*} families under their names
 * and types, histograms consistent with what was observed, the engine figures, the JVM's metrics and a Kafka
 * client's own, each labelled with the service.
 */
class ServiceMetricsScrapeTest {

    private static final Map<String, String> SERVICE = Map.of("service", "worker");

    @Test
    void everyFamilyIsServedInTheTextFormatWithTheValuesRecorded() throws Exception {
        ServiceMetrics metrics = new ServiceMetrics("worker");
        metrics.request("ACCEPTED");
        metrics.request("ACCEPTED");
        metrics.request("REJECTED");
        metrics.jobSeconds("succeeded", 2.0);
        metrics.jobSeconds("succeeded", 0.3);
        metrics.jobSeconds("failed", 40);
        metrics.consumerLag(() -> 7);
        metrics.up(() -> 1);
        metrics.duplicate();
        metrics.deadLetter();
        metrics.unlearningEpoch(0.25);
        metrics.unlearningEpoch(0.75);
        metrics.adapterInitialized("FILA", 0.04);
        metrics.fisherPass(2.0, 1000);

        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        PrometheusText scrape;
        PrometheusText afterClose;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                "127.0.0.1:" + closedPort, "client.id", "metrics-probe"), new ByteArraySerializer(), new ByteArraySerializer());
             ServiceHttpServer server = ServiceHttpServer.start(new Probe(metrics), 0)) {
            AutoCloseable binding = metrics.kafkaClient(producer);
            scrape = scrape(server);
            binding.close();
            afterClose = scrape(server);
        }

        Map<String, String> types = scrape.types();
        assertEquals("counter", types.get("loku_requests_total"), types.toString());
        assertEquals("histogram", types.get("loku_job_seconds"));
        assertEquals("gauge", types.get("loku_consumer_lag"));
        assertEquals("counter", types.get("loku_duplicates_total"));
        assertEquals("counter", types.get("loku_dead_letters_total"));
        assertEquals("gauge", types.get("loku_up"));

        assertEquals(2.0, scrape.value("loku_requests_total", Map.of("service", "worker", "status", "ACCEPTED")));
        assertEquals(1.0, scrape.value("loku_requests_total", Map.of("service", "worker", "status", "REJECTED")));
        Map<String, String> succeeded = Map.of("service", "worker", "outcome", "succeeded");
        assertEquals(2.0, scrape.value("loku_job_seconds_count", succeeded));
        assertEquals(2.3, scrape.value("loku_job_seconds_sum", succeeded), 1e-9);
        assertEquals(0.0, bucket(scrape, "loku_job_seconds_bucket", succeeded, 0.1));
        assertEquals(1.0, bucket(scrape, "loku_job_seconds_bucket", succeeded, 0.5));
        assertEquals(2.0, bucket(scrape, "loku_job_seconds_bucket", succeeded, 5));
        assertEquals(2.0, bucket(scrape, "loku_job_seconds_bucket", succeeded, Double.POSITIVE_INFINITY));
        assertEquals(1.0, scrape.value("loku_job_seconds_count", Map.of("outcome", "failed")));
        assertEquals(7.0, scrape.value("loku_consumer_lag", SERVICE));
        assertEquals(1.0, scrape.value("loku_up", SERVICE));
        assertEquals(1.0, scrape.value("loku_duplicates_total", SERVICE));
        assertEquals(1.0, scrape.value("loku_dead_letters_total", SERVICE));

        assertEquals(2.0, scrape.value("loku_unlearning_epochs_total", SERVICE));
        assertEquals(1.0, scrape.value("loku_unlearning_epoch_seconds_sum", SERVICE), 1e-9);
        assertEquals(0.04, scrape.value("loku_adapter_init_seconds_sum", Map.of("initialization", "FILA")), 1e-9);
        assertEquals(1.0, scrape.value("loku_fisher_pass_seconds_count", SERVICE));
        assertEquals(1000.0, scrape.value("loku_fisher_tokens_total", SERVICE));
        assertEquals(500.0, scrape.value("loku_fisher_tokens_per_second", SERVICE));
        double resident = scrape.value("loku_process_resident_memory_bytes", SERVICE);
        double nativeBytes = scrape.value("loku_native_memory_bytes", SERVICE);
        assertTrue(resident > 10e6, "a JVM holds more than 10 MB resident: " + resident);
        assertTrue(nativeBytes >= 0 && nativeBytes < resident, "native " + nativeBytes + " of resident " + resident);

        assertTrue(scrape.value("jvm_memory_used_bytes", Map.of("area", "heap", "id",
                heapPool(scrape))) > 0, "JVM memory");
        assertTrue(scrape.value("jvm_threads_live_threads", SERVICE) > 1);
        assertFalse(scrape.samples("process_cpu_usage", SERVICE).isEmpty());
        List<PrometheusText.Sample> producer = scrape.samples().stream()
                .filter(s -> s.name().startsWith("kafka_producer_")).toList();
        assertFalse(producer.isEmpty(), "the producer's own metrics");
        assertTrue(producer.stream().allMatch(s -> "metrics-probe".equals(s.labels().get("client_id"))
                && "worker".equals(s.labels().get("service"))), producer.toString());
        assertTrue(afterClose.samples().stream().noneMatch(s -> s.name().startsWith("kafka_producer_")),
                "a closed binding leaves no series of a closed client behind");
        assertTrue(scrape.samples().stream().allMatch(s -> "worker".equals(s.labels().get("service"))),
                "every series is labelled with the service");
    }

    private static PrometheusText scrape(ServiceHttpServer server) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals(ServiceMetrics.CONTENT_TYPE, r.headers().firstValue("Content-Type").orElseThrow());
        return PrometheusText.parse(r.body());
    }

    private static double bucket(PrometheusText scrape, String name, Map<String, String> labels, double le) {
        return scrape.samples(name, labels).stream().filter(s -> Double.parseDouble(s.labels().get("le")
                .replace("+Inf", "Infinity")) == le).findFirst().orElseThrow(() -> new AssertionError("no bucket " + le))
                .value();
    }

    private static String heapPool(PrometheusText scrape) {
        return scrape.samples("jvm_memory_used_bytes", Map.of("area", "heap")).get(0).labels().get("id");
    }

    private record Probe(ServiceMetrics metrics) implements Service {
        @Override
        public String name() {
            return "worker";
        }

        @Override
        public void start() {
        }

        @Override
        public void stop() {
        }

        @Override
        public Health health() {
            return Health.up();
        }
    }
}
