package dev.loku.core.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/** Parses a device name from the command line or configuration. */
public final class Devices {
    private Devices() {}

    /**
     * {@code auto} (a GPU when DJL finds one, else the CPU), {@code cpu}, {@code gpu}/{@code cuda} (GPU 0), or
     * {@code gpu:N}/{@code cuda:N}.
     */
    public static Device parse(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        Engine engine = Engine.getEngine("PyTorch");
        if (s.equals("auto")) {
            return engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        }
        if (s.equals("cpu")) {
            return Device.cpu();
        }
        if (s.startsWith("gpu") || s.startsWith("cuda")) {
            int id = 0;
            int colon = s.indexOf(':');
            if (colon >= 0) {
                try {
                    id = Integer.parseInt(s.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad device '" + spec + "'; use auto, cpu, gpu or gpu:N");
                }
            }
            if (id >= engine.getGpuCount()) {
                throw new IllegalArgumentException("device '" + spec + "' requested but DJL found "
                        + engine.getGpuCount() + " GPU(s); use --device cpu or auto");
            }
            return Device.gpu(id);
        }
        throw new IllegalArgumentException("bad device '" + spec + "'; use auto, cpu, gpu or gpu:N");
    }

    /**
     * {@link #parse} for a pipeline service's {@code device} setting: a device the host lacks stops the service at
     * start-up with one line that names it ({@code 'worker' cannot start: device 'gpu:1' requested but ...}).
     *
     * @throws IllegalStateException when {@code spec} is not a device this host has
     */
    public static Device forService(String service, String spec) {
        try {
            return parse(spec);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("'" + service + "' cannot start: " + e.getMessage(), e);
        }
    }
}
