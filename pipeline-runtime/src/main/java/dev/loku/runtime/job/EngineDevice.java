package dev.loku.runtime.job;

import dev.loku.runtime.config.ConfigField;
import dev.loku.runtime.config.ConfigType;
import dev.loku.runtime.config.Validator;
import java.util.regex.Pattern;

/**
 * The engine device setting every job service has, declared once: the spelling the engine's
 * {@code dev.loku.core.model.Devices.parse} accepts ({@code auto}, {@code cpu}, {@code gpu}/{@code cuda},
 * {@code gpu:N}/{@code cuda:N}). Only the spelling is checked here; whether the GPU exists is checked when the
 * engine starts.
 */
public final class EngineDevice {

    private static final Pattern SPELLING = Pattern.compile("auto|cpu|(gpu|cuda)(:\\d{1,2})?");

    private EngineDevice() {
    }

    /** A {@code <service>.device} field; {@code what} says what the engine does there, e.g. "computes the Fisher pass". */
    public static ConfigField<String> field(String name, String what) {
        return ConfigField.of(name, ConfigType.STRING)
                .defaultValue("auto")
                .validator(Validator.of("auto, cpu, gpu or gpu:N (cuda and cuda:N also accepted)",
                        (String s) -> SPELLING.matcher(s).matches()))
                .description("Where the engine " + what + ": auto (a GPU when DJL finds one, else the CPU), cpu, "
                        + "gpu, or gpu:N.")
                .build();
    }
}
