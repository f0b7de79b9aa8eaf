package dev.loku.runtime.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.DoubleSupplier;

/**
 * A few metric families written in the Prometheus text exposition format (version 0.0.4): counters, gauges and
 * histograms with fixed label names. Small on purpose: the services need a handful of metrics, and this keeps the
 * format's rules (name and label syntax, escaping, cumulative buckets, {@code +Inf}) in one tested place instead
 * of a client library and its transitive dependencies.
 *
 * <p>Label values must never be personal data: they are statuses, outcomes and service names, all from code.
 */
public final class MetricsRegistry {

    /** The Content-Type of {@link #scrape()}. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final List<Family> families = new CopyOnWriteArrayList<>();

    /** A counter family; the name should end in {@code _total}. */
    public Counter counter(String name, String help, String... labelNames) {
        return register(new Counter(name, help, labelNames));
    }

    /** A gauge family. */
    public Gauge gauge(String name, String help, String... labelNames) {
        return register(new Gauge(name, help, labelNames));
    }

    /** A histogram family with the given upper bounds (ascending; {@code +Inf} is added). */
    public Histogram histogram(String name, String help, double[] buckets, String... labelNames) {
        return register(new Histogram(name, help, buckets, labelNames));
    }

    private <F extends Family> F register(F family) {
        for (Family f : families) {
            if (f.name.equals(family.name)) {
                throw new IllegalArgumentException("metric " + family.name + " is registered twice");
            }
        }
        families.add(family);
        return family;
    }

    /** Every family in the text exposition format. */
    public String scrape() {
        StringBuilder sb = new StringBuilder();
        for (Family f : families) {
            sb.append("# HELP ").append(f.name).append(' ').append(escapeHelp(f.help)).append('\n');
            sb.append("# TYPE ").append(f.name).append(' ').append(f.type()).append('\n');
            f.write(sb);
        }
        return sb.toString();
    }

    /** What all families share: name, help, label names, and one child per label-value combination. */
    public abstract static class Family {
        final String name;
        final String help;
        final String[] labelNames;

        Family(String name, String help, String[] labelNames) {
            if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
                throw new IllegalArgumentException("invalid metric name: " + name);
            }
            for (String l : labelNames) {
                if (!l.matches("[a-zA-Z_][a-zA-Z0-9_]*") || l.startsWith("__") || l.equals("le")) {
                    throw new IllegalArgumentException("invalid label name: " + l);
                }
            }
            this.name = name;
            this.help = Objects.requireNonNull(help, "help");
            this.labelNames = labelNames.clone();
        }

        abstract String type();

        abstract void write(StringBuilder sb);

        /** The children are keyed by their label values, kept sorted so scrapes are stable. */
        static String key(String[] values) {
            return String.join("\u0000", values);
        }

        void checkArity(String[] values) {
            if (values.length != labelNames.length) {
                throw new IllegalArgumentException("metric " + name + " takes labels " + Arrays.toString(labelNames)
                        + ", got " + values.length + " values");
            }
            for (String v : values) {
                Objects.requireNonNull(v, "label value");
            }
        }

        void labels(StringBuilder sb, String[] values, String extraName, String extraValue) {
            if (values.length == 0 && extraName == null) {
                return;
            }
            sb.append('{');
            for (int i = 0; i < values.length; i++) {
                sb.append(i == 0 ? "" : ",").append(labelNames[i]).append("=\"").append(escapeLabel(values[i])).append('"');
            }
            if (extraName != null) {
                sb.append(values.length == 0 ? "" : ",").append(extraName).append("=\"").append(extraValue).append('"');
            }
            sb.append('}');
        }
    }

    /** A monotonically increasing count. */
    public static final class Counter extends Family {
        private final Map<String, Child> children = new ConcurrentSkipListMap<>();

        Counter(String name, String help, String[] labelNames) {
            super(name, help, labelNames);
        }

        /** The counter for these label values (created at zero on first use). */
        public Child labels(String... values) {
            checkArity(values);
            return children.computeIfAbsent(key(values), k -> new Child(values.clone()));
        }

        @Override
        String type() {
            return "counter";
        }

        @Override
        void write(StringBuilder sb) {
            for (Child c : children.values()) {
                sb.append(name);
                labels(sb, c.values, null, null);
                sb.append(' ').append(formatValue(c.value.sum())).append('\n');
            }
        }

        public static final class Child {
            private final String[] values;
            private final DoubleAdder value = new DoubleAdder();

            Child(String[] values) {
                this.values = values;
            }

            public void inc() {
                value.add(1);
            }

            public void inc(double amount) {
                if (amount < 0) {
                    throw new IllegalArgumentException("counters only go up");
                }
                value.add(amount);
            }

            public double get() {
                return value.sum();
            }
        }
    }

    /** A value that goes up and down, set directly or read from a supplier at scrape time. */
    public static final class Gauge extends Family {
        private final Map<String, String[]> labelValues = new ConcurrentSkipListMap<>();
        private final Map<String, DoubleSupplier> suppliers = new ConcurrentHashMap<>();

        Gauge(String name, String help, String[] labelNames) {
            super(name, help, labelNames);
        }

        /** Sets the gauge for these label values. */
        public void set(double value, String... labels) {
            supply(() -> value, labels);
        }

        /** Reads the gauge from {@code supplier} at every scrape (e.g. consumer lag, health). */
        public void supply(DoubleSupplier supplier, String... labels) {
            checkArity(labels);
            String k = key(labels);
            labelValues.put(k, labels.clone());
            suppliers.put(k, supplier);
        }

        /** The current value for these labels, or NaN when never set. */
        public double get(String... labels) {
            DoubleSupplier s = suppliers.get(key(labels));
            return s == null ? Double.NaN : s.getAsDouble();
        }

        @Override
        String type() {
            return "gauge";
        }

        @Override
        void write(StringBuilder sb) {
            for (Map.Entry<String, String[]> e : labelValues.entrySet()) {
                double v;
                try {
                    v = suppliers.get(e.getKey()).getAsDouble();
                } catch (RuntimeException ex) {
                    v = Double.NaN; // a failing supplier must not break the whole scrape
                }
                sb.append(name);
                labels(sb, e.getValue(), null, null);
                sb.append(' ').append(formatValue(v)).append('\n');
            }
        }
    }

    /** Observations counted into cumulative buckets, with their sum and count. */
    public static final class Histogram extends Family {
        private final double[] bounds;
        private final Map<String, Child> children = new ConcurrentSkipListMap<>();

        Histogram(String name, String help, double[] buckets, String[] labelNames) {
            super(name, help, labelNames);
            for (int i = 1; i < buckets.length; i++) {
                if (!(buckets[i] > buckets[i - 1])) {
                    throw new IllegalArgumentException("histogram buckets must ascend: " + Arrays.toString(buckets));
                }
            }
            this.bounds = buckets.clone();
        }

        public Child labels(String... values) {
            checkArity(values);
            return children.computeIfAbsent(key(values), k -> new Child(values.clone(), bounds.length));
        }

        @Override
        String type() {
            return "histogram";
        }

        @Override
        void write(StringBuilder sb) {
            for (Child c : children.values()) {
                long[] counts;
                double sum;
                long count;
                synchronized (c) {
                    counts = c.counts.clone();
                    sum = c.sum;
                    count = c.count;
                }
                long cumulative = 0;
                for (int i = 0; i < bounds.length; i++) {
                    cumulative += counts[i];
                    sb.append(name).append("_bucket");
                    labels(sb, c.values, "le", formatValue(bounds[i]));
                    sb.append(' ').append(cumulative).append('\n');
                }
                sb.append(name).append("_bucket");
                labels(sb, c.values, "le", "+Inf");
                sb.append(' ').append(count).append('\n');
                sb.append(name).append("_sum");
                labels(sb, c.values, null, null);
                sb.append(' ').append(formatValue(sum)).append('\n');
                sb.append(name).append("_count");
                labels(sb, c.values, null, null);
                sb.append(' ').append(count).append('\n');
            }
        }

        public final class Child {
            private final String[] values;
            private final long[] counts;
            private double sum;
            private long count;

            Child(String[] values, int buckets) {
                this.values = values;
                this.counts = new long[buckets];
            }

            public synchronized void observe(double value) {
                for (int i = 0; i < bounds.length; i++) {
                    if (value <= bounds[i]) {
                        counts[i]++;
                        break;
                    }
                }
                sum += value;
                count++;
            }

            public synchronized long count() {
                return count;
            }
        }
    }

    /** Go-parsable float text: integers without a fraction, {@code +Inf}, {@code -Inf}, {@code NaN}. */
    static String formatValue(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    static String escapeHelp(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }

    static String escapeLabel(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** For tests: the label names of a family, in order. */
    static List<String> labelNames(Family f) {
        return new ArrayList<>(Arrays.asList(f.labelNames));
    }
}
