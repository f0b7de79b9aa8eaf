package dev.loku.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.io.FileFormatException;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.io.SafetensorsWriter;
import dev.loku.core.model.LinearProjection;
import dev.loku.core.model.CausalLm;
import dev.loku.core.model.NoGrad;
import dev.loku.core.model.RotaryLayout;
import dev.loku.core.tensor.TensorScope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEFT's on-disk LoRA format, as {@code PeftModel.save_pretrained} writes it and {@code PeftModel.from_pretrained}
 * reads it: {@code adapter_model.safetensors} with keys {@code base_model.model.<module>.lora_A.weight} [r, in] and
 * {@code ...lora_B.weight} [out, r] (the adapter name stripped), metadata {@code format: pt}; and
 * {@code adapter_config.json}. The tensors are in Hugging Face's layout, so the rows of q/k B matrices of a model
 * loaded from a llama2.c (interleaved rotary) checkpoint are permuted on the way out and back, exactly as
 * {@link dev.loku.core.model.HfExporter} permutes the base q/k weights.
 */
@SuppressWarnings("try") // NoGrad is a scope guard: entering it is the point, its variable is unused
final class PeftFiles {

    static final String CONFIG_FILE = "adapter_config.json";
    static final String WEIGHTS_FILE = "adapter_model.safetensors";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern KEY = Pattern.compile("base_model\\.model\\.(.+)\\.lora_([AB])\\.weight");

    private PeftFiles() {
    }

    static void save(LoraModel lora, Path dir, String baseModelNameOrPath) throws IOException {
        write(lora, dir, baseModelNameOrPath, 1, (p, factorB) -> lora.factor(p, factorB));
    }

    /**
     * The FILA adapter converted to one on the original base (docs/method.md §8.6): per projection
     * {@code lora_A = [A; A₀]} [2r, in] and {@code lora_B = [B, −B₀]} [out, 2r], r' = 2r and lora_alpha' = 2α, so
     * PEFT's s' = alpha' / r' is the run's s and s'·lora_B·lora_A = s·(BA − B₀A₀) = W_res + s·BA − W.
     */
    static void savePortable(LoraModel lora, Path dir, String baseModelNameOrPath) throws IOException {
        write(lora, dir, baseModelNameOrPath, 2, (p, factorB) -> factorB
                ? lora.factor(p, true).concat(lora.startFactor(p, true).neg(), 1)
                : lora.factor(p, false).concat(lora.startFactor(p, false), 0));
    }

    /** A projection's lora_B ({@code true}) or lora_A factor as the file stores it (engine row order). */
    private interface Factors {
        NDArray of(LinearProjection projection, boolean factorB);
    }

    /** The adapter's weights and config: rank and alpha are the run's times {@code widen} (1, or 2 when stacked). */
    private static void write(LoraModel lora, Path dir, String baseModelNameOrPath, int widen, Factors factors)
            throws IOException {
        Files.createDirectories(dir);
        CausalLm model = lora.model();
        LoraConfig config = lora.config();
        try (NoGrad ignored = NoGrad.enter(); TensorScope scope = new TensorScope()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (LinearProjection p : lora.projections()) {
                tensors.put(LoraModel.peftKey(p.module(), "A"), factors.of(p, false));
                tensors.put(LoraModel.peftKey(p.module(), "B"), toHfRows(model, p, factors.of(p, true)));
            }
            SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        }
        writeConfig(dir, widen * config.rank(), widen * config.alpha(), config, model, baseModelNameOrPath);
    }

    private static void writeConfig(Path dir, int rank, double alpha, LoraConfig config, CausalLm model,
                                    String baseModelNameOrPath) throws IOException {
        // PEFT writes the fields of its LoraConfig dataclass; these are the ones a loader reads, at their
        // defaults where this implementation has no counterpart.
        ObjectNode c = JSON.createObjectNode();
        c.putObject("alpha_pattern");
        c.putNull("auto_mapping");
        if (baseModelNameOrPath == null) {
            c.putNull("base_model_name_or_path");
        } else {
            c.put("base_model_name_or_path", baseModelNameOrPath);
        }
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("init_lora_weights", true);
        c.putNull("layers_pattern");
        c.putNull("layers_to_transform");
        // PEFT declares lora_alpha an int; write one whenever the value is integral.
        if (alpha == Math.rint(alpha) && Math.abs(alpha) < Integer.MAX_VALUE) {
            c.put("lora_alpha", (int) alpha);
        } else {
            c.put("lora_alpha", alpha);
        }
        c.put("lora_dropout", config.dropout());
        c.putNull("modules_to_save");
        c.put("peft_type", "LORA");
        c.put("r", rank);
        c.putObject("rank_pattern");
        c.putNull("revision");
        // The kinds this model's adapters sit on, named explicitly: PEFT's own shorthands differ from ours.
        config.kinds(model.family()).forEach(c.putArray("target_modules")::add);
        c.put("task_type", "CAUSAL_LM");
        c.put("use_dora", false);
        c.put("use_rslora", false);
        JSON.writeValue(dir.resolve(CONFIG_FILE).toFile(), c);
    }

    static LoraModel load(CausalLm model, Path dir) throws IOException {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile)) {
            throw new NoSuchFileException(configFile.toString(), null, "not a PEFT adapter folder (file not found)");
        }
        if (!Files.isRegularFile(weightsFile)) {
            String hint = Files.isRegularFile(dir.resolve("adapter_model.bin"))
                    ? "only adapter_model.bin (pickle) is there; save the adapter with safe_serialization=True"
                    : "file not found";
            throw new NoSuchFileException(weightsFile.toString(), null, hint);
        }
        LoraConfig config = readConfig(configFile);
        Map<String, LinearProjection> byModule = new LinkedHashMap<>();
        List<LinearProjection> targeted;
        try {
            targeted = config.select(model);
        } catch (IllegalArgumentException e) {
            throw new FileFormatException(configFile, e.getMessage() + "; the adapter was made for another model");
        }
        for (LinearProjection p : targeted) {
            byModule.put(p.module(), p);
        }
        NDManager manager = LoraModel.newManager(model);
        try (SafetensorsFile file = SafetensorsFile.open(weightsFile)) {
            Map<String, NDArray[]> found = new LinkedHashMap<>();
            for (SafetensorsFile.Entry e : file.entries()) {
                Matcher m = KEY.matcher(e.name());
                if (!m.matches()) {
                    throw new FileFormatException(weightsFile, "unexpected tensor '" + e.name()
                            + "'; a LoRA adapter holds base_model.model.<module>.lora_A/lora_B.weight only");
                }
                LinearProjection p = byModule.get(m.group(1));
                if (p == null) {
                    throw new FileFormatException(weightsFile, "tensor '" + e.name() + "' adapts '" + m.group(1)
                            + "', which is not a projection of this model targeted by " + config.targets());
                }
                boolean isB = m.group(2).equals("B");
                long[] expected = isB ? new long[] {p.outFeatures(), config.rank()}
                        : new long[] {config.rank(), p.inFeatures()};
                if (!Arrays.equals(expected, e.shape())) {
                    throw new FileFormatException(weightsFile, "tensor '" + e.name() + "' has shape "
                            + Arrays.toString(e.shape()) + ", expected " + Arrays.toString(expected)
                            + " for r = " + config.rank());
                }
                NDArray a = file.readFloat32(manager, e.name());
                found.computeIfAbsent(p.module(), k -> new NDArray[2])[isB ? 1 : 0] = isB ? fromHfRows(model, p, a)
                        : a;
            }
            Map<LinearProjection, NDArray[]> factors = new LinkedHashMap<>();
            List<String> missing = new ArrayList<>();
            for (LinearProjection p : byModule.values()) {
                NDArray[] ab = found.get(p.module());
                if (ab == null || ab[0] == null || ab[1] == null) {
                    missing.add(p.module());
                } else {
                    factors.put(p, ab);
                }
            }
            if (!missing.isEmpty()) {
                throw new FileFormatException(weightsFile, "no lora_A/lora_B pair for " + missing.size() + " of "
                        + byModule.size() + " targeted projections (first: " + missing.get(0) + ")");
            }
            return LoraModel.fromFactors(model, config, factors, manager);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static LoraConfig readConfig(Path file) throws IOException {
        JsonNode c;
        try {
            c = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new FileFormatException(file, "not valid JSON", e);
        }
        if (c == null || !c.isObject()) {
            throw new FileFormatException(file, "not a JSON object");
        }
        String type = c.path("peft_type").asText("");
        if (!type.equals("LORA")) {
            throw new FileFormatException(file, "peft_type is '" + type + "', only LORA adapters are supported");
        }
        refuse(file, c, "use_dora", "DoRA adapters are not supported");
        refuse(file, c, "use_rslora", "rsLoRA scaling is not supported");
        refuse(file, c, "fan_in_fan_out", "fan_in_fan_out (Conv1D layouts) is not supported");
        if (!c.path("bias").asText("none").equals("none")) {
            throw new FileFormatException(file, "bias '" + c.path("bias").asText() + "' is not supported, only none");
        }
        for (String field : List.of("rank_pattern", "alpha_pattern")) {
            if (c.has(field) && !c.get(field).isNull() && c.get(field).size() > 0) {
                throw new FileFormatException(file, field + " (per-module ranks or alphas) is not supported");
            }
        }
        for (String field : List.of("layers_to_transform", "modules_to_save")) {
            if (c.has(field) && !c.get(field).isNull() && !(c.get(field).isArray() && c.get(field).isEmpty())) {
                throw new FileFormatException(file, field + " is not supported");
            }
        }
        if (!c.path("r").canConvertToInt() || !c.path("r").isIntegralNumber()) {
            throw new FileFormatException(file, "r must be an integer");
        }
        if (!c.path("lora_alpha").isNumber()) {
            throw new FileFormatException(file, "lora_alpha must be a number");
        }
        List<String> targets = new ArrayList<>();
        JsonNode t = c.path("target_modules");
        if (t.isArray()) {
            t.forEach(n -> targets.add(n.asText()));
        } else if (t.isTextual()) {
            targets.add(t.asText());
        } else {
            throw new FileFormatException(file, "target_modules must be a list of module names");
        }
        try {
            return new LoraConfig(c.get("r").asInt(), c.get("lora_alpha").asDouble(),
                    c.path("lora_dropout").asDouble(0.0), targets);
        } catch (IllegalArgumentException e) {
            throw new FileFormatException(file, e.getMessage());
        }
    }

    private static void refuse(Path file, JsonNode c, String flag, String problem) throws FileFormatException {
        if (c.path(flag).asBoolean(false)) {
            throw new FileFormatException(file, problem);
        }
    }

    /** B [out, r] in the Hugging Face row order (q/k rows of an interleaved model permuted), in the current scope. */
    private static NDArray toHfRows(CausalLm model, LinearProjection p, NDArray b) {
        return model.reorderRows(p, b, model.rotaryLayout(), RotaryLayout.HALF);
    }

    /** The inverse of {@link #toHfRows}; the result replaces {@code b} in {@code b}'s manager. */
    private static NDArray fromHfRows(CausalLm model, LinearProjection p, NDArray b) {
        NDArray out = model.reorderRows(p, b, RotaryLayout.HALF, model.rotaryLayout());
        if (out == b) {
            return b;
        }
        NDArray copy = out.duplicate(); // a contiguous tensor that owns its storage
        copy.attach(b.getManager());
        out.close();
        b.close();
        return copy;
    }
}
