package dev.loku.runtime.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MetricsRegistryTest {

    @Test
    void writesTheTextExpositionFormat() {
        MetricsRegistry r = new MetricsRegistry();
        MetricsRegistry.Counter c = r.counter("x_total", "Things.\nSecond line \\ backslash.", "status");
        c.labels("ok").inc();
        c.labels("ok").inc(2);
        c.labels("we\"ird\n").inc();
        r.gauge("lag", "Lag.").set(1.5);
        MetricsRegistry.Histogram h = r.histogram("job_seconds", "Jobs.", new double[] {1, 10}, "outcome");
        h.labels("ok").observe(0.5);
        h.labels("ok").observe(5);
        h.labels("ok").observe(50);

        assertEquals("""
                # HELP x_total Things.\\nSecond line \\\\ backslash.
                # TYPE x_total counter
                x_total{status="ok"} 3
                x_total{status="we\\"ird\\n"} 1
                # HELP lag Lag.
                # TYPE lag gauge
                lag 1.5
                # HELP job_seconds Jobs.
                # TYPE job_seconds histogram
                job_seconds_bucket{outcome="ok",le="1"} 1
                job_seconds_bucket{outcome="ok",le="10"} 2
                job_seconds_bucket{outcome="ok",le="+Inf"} 3
                job_seconds_sum{outcome="ok"} 55.5
                job_seconds_count{outcome="ok"} 3
                """, r.scrape());
    }

    @Test
    void refusesInvalidNamesAndWrongLabelCounts() {
        MetricsRegistry r = new MetricsRegistry();
        assertThrows(IllegalArgumentException.class, () -> r.counter("bad-name", "h"));
        assertThrows(IllegalArgumentException.class, () -> r.histogram("h", "h", new double[] {1}, "le"));
        MetricsRegistry.Counter c = r.counter("c_total", "h", "a");
        assertThrows(IllegalArgumentException.class, () -> c.labels("x", "y"));
        assertThrows(IllegalArgumentException.class, () -> r.counter("c_total", "again"));
        assertThrows(IllegalArgumentException.class, () -> c.labels("x").inc(-1));
    }
}
