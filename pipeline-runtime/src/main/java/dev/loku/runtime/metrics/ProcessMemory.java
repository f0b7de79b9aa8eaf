package dev.loku.runtime.metrics;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's memory as the operating system counts it, read from {@code /proc/self/status} (Linux). The JVM's
 * own gauges cover its heap and non-heap; libtorch allocates tensors with malloc, outside both, so a service's
 * native memory in use is about what is resident beyond what the JVM uses.
 */
final class ProcessMemory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {
    }

    /** Resident set size in bytes ({@code VmRSS}), or NaN where {@code /proc} is missing. */
    static double residentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024.0; // the kernel writes kB
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unexpected line: unknown
        }
        return Double.NaN;
    }

    /**
     * Resident bytes beyond what the JVM's heap and non-heap use (never below 0), or NaN. An estimate: it also
     * counts heap pages the collector freed but the JVM kept resident, so it is an upper bound that tracks libtorch's
     * allocations as they grow and shrink.
     */
    static double nativeBytes() {
        double rss = residentBytes();
        if (Double.isNaN(rss)) {
            return Double.NaN;
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        double jvm = memory.getHeapMemoryUsage().getUsed() + memory.getNonHeapMemoryUsage().getUsed();
        return Math.max(0, rss - jvm);
    }
}
