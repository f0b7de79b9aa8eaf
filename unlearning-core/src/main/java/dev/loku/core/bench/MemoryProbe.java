package dev.loku.core.bench;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.cuda.CudaUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Current and peak memory as the system reports it, for {@link MemoryBench}: the process's resident set on the CPU,
 * the device's used memory on a GPU. A sampler thread (every 2 ms) keeps the peak since {@link #startPeak}; on the
 * CPU the kernel's own high-water mark (VmHWM, reset through {@code /proc/self/clear_refs}) is taken when the reset
 * is allowed, since it sees peaks between samples.
 */
final class MemoryProbe implements AutoCloseable {

    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private final Device device;
    private final boolean gpu;
    private final boolean hwmResettable;
    private final AtomicLong sampledPeak = new AtomicLong();
    private final Thread sampler;
    private volatile boolean running = true;

    private MemoryProbe(Device device) {
        this.device = device;
        this.gpu = device.isGpu();
        this.hwmResettable = !gpu && resetHwm();
        this.sampler = new Thread(this::sample, "memory-probe");
        sampler.setDaemon(true);
        sampler.start();
    }

    static MemoryProbe forDevice(Device device) {
        return new MemoryProbe(device);
    }

    String describe() {
        if (gpu) {
            return "device used memory (cudaMemGetInfo total - free, sampled every 2 ms, libtorch cache emptied"
                    + " before each phase)";
        }
        return hwmResettable ? "process peak RSS (VmHWM, reset per phase through /proc/self/clear_refs)"
                : "process RSS (sampled every 2 ms; /proc/self/clear_refs refused)";
    }

    /** Frees what libtorch caches on the GPU, so that the next figures start from live tensors. */
    void settle() {
        if (gpu) {
            JniUtils.emptyCudaCache();
        }
    }

    /** Bytes in use now. */
    long current() {
        if (gpu) {
            return CudaUtils.getGpuMemory(device).getCommitted();
        }
        return statusBytes("VmRSS:");
    }

    void startPeak() {
        if (hwmResettable) {
            resetHwm();
        }
        sampledPeak.set(current());
    }

    /** The peak since {@link #startPeak}. */
    long peak() {
        long sampled = Math.max(sampledPeak.get(), current());
        return hwmResettable ? Math.max(sampled, statusBytes("VmHWM:")) : sampled;
    }

    private void sample() {
        while (running) {
            long now = current();
            sampledPeak.accumulateAndGet(now, Math::max);
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static boolean resetHwm() {
        try {
            Files.writeString(CLEAR_REFS, "5", StandardCharsets.US_ASCII);
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** A {@code kB} line of /proc/self/status, in bytes. */
    private static long statusBytes(String key) {
        try {
            for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
                if (line.startsWith(key)) {
                    String kb = line.substring(key.length()).trim().split("\\s+")[0];
                    return Long.parseLong(kb) * 1024;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + STATUS + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException(STATUS + " has no " + key + " line (not Linux?)");
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
