package dev.loku.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.io.SafetensorsWriter;
import dev.loku.core.tokenizer.HfTokenizer;
import dev.loku.core.tokenizer.HfTokenizerJsonWriter;
import dev.loku.core.tokenizer.Llama2cTokenizer;
import dev.loku.core.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a model as a Hugging Face folder of its family ({@code LlamaForCausalLM}, {@code GPTNeoForCausalLM}, ...):
 * {@code config.json}, {@code generation_config.json}, {@code model.safetensors} in the model's
 * {@link CausalLm#exportType} (float32, float16 or bfloat16; or shards plus
 * {@code model.safetensors.index.json}) and the tokenizer files. Weights of an interleaved (Meta/llama2.c) model get
 * their q/k rows permuted to the {@code rotate_half} layout, as transformers' own converter does, so transformers
 * and {@link ModelLoader} both compute the same logits from the folder. A tied head is written once (as the
 * embedding) and marked {@code tie_word_embeddings}. Installed adapters are not merged: the base weights are written.
 */
@SuppressWarnings("try") // NoGrad is a scope guard: entering it is the point, its variable is unused
public final class HfExporter {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfExporter() {}

    public static void export(CausalLm model, Path dir) {
        export(model, dir, Long.MAX_VALUE);
    }

    /** Exports, splitting the weights into shards of at most {@code maxShardBytes} (one tensor never splits). */
    public static void export(CausalLm model, Path dir, long maxShardBytes) {
        ModelConfig config = model.config();
        try (NoGrad ignored = NoGrad.enter(); NDManager scope = model.manager().newSubManager()) {
            Files.createDirectories(dir);
            removeOldWeights(dir);
            // The weights are written in the model's export type (its checkpoint's, unless told otherwise), and
            // config.json says which.
            DataType fileType = model.exportType();
            JSON.writeValue(dir.resolve("config.json").toFile(), config.toHfJson()
                    .put("torch_dtype", torchDtype(fileType)));
            JSON.writeValue(dir.resolve("generation_config.json").toFile(), generationConfig(config));

            Map<String, NDArray> tensors = hfTensors(model, scope);
            Map<String, String> metadata = Map.of("format", "pt");
            List<Map<String, NDArray>> shards = shard(tensors, maxShardBytes, fileType);
            if (shards.size() == 1) {
                SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, metadata, fileType);
            } else {
                ObjectNode index = JSON.createObjectNode();
                index.putObject("metadata").put("total_size", SafetensorsWriter.dataBytes(tensors, fileType));
                ObjectNode weightMap = index.putObject("weight_map");
                for (int i = 0; i < shards.size(); i++) {
                    String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                    SafetensorsWriter.write(dir.resolve(file), shards.get(i), metadata, fileType);
                    for (String name : shards.get(i).keySet()) {
                        weightMap.put(name, file);
                    }
                }
                JSON.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
            }
            writeTokenizer(model.tokenizer(), dir, config);
        } catch (IOException e) {
            throw new ModelLoadException(dir + ": cannot write the model (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The weights under their Hugging Face names in the {@code rotate_half} layout. Parameters are returned as they
     * are when no permutation is needed; permuted copies are created in {@code scope}.
     */
    static Map<String, NDArray> hfTensors(CausalLm model, NDManager scope) {
        Map<String, LinearProjection> projectionOf = new HashMap<>();
        for (LinearProjection p : model.linearProjections()) {
            projectionOf.put(p.weightName(), p);
            projectionOf.put(p.module() + ".bias", p);
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
            NDArray w = e.getValue();
            LinearProjection p = projectionOf.get(e.getKey());
            if (p != null) {
                NDArray rows = model.reorderRows(p, w, model.rotaryLayout(), RotaryLayout.HALF);
                if (rows != w) {
                    rows.attach(scope);
                    w = rows;
                }
            }
            out.put(e.getKey(), w);
        }
        return out;
    }

    /** The {@code torch_dtype} of config.json for weights stored as {@code type}. */
    public static String torchDtype(DataType type) {
        return switch (type) {
            case FLOAT16 -> "float16";
            case BFLOAT16 -> "bfloat16";
            default -> "float32";
        };
    }

    private static List<Map<String, NDArray>> shard(Map<String, NDArray> tensors, long maxBytes, DataType fileType) {
        List<Map<String, NDArray>> shards = new ArrayList<>();
        Map<String, NDArray> current = new LinkedHashMap<>();
        long size = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            long bytes = SafetensorsWriter.dataBytes(Map.of(e.getKey(), e.getValue()), fileType);
            if (!current.isEmpty() && size + bytes > maxBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                size = 0;
            }
            current.put(e.getKey(), e.getValue());
            size += bytes;
        }
        shards.add(current);
        return shards;
    }

    private static void removeOldWeights(Path dir) throws IOException {
        // A stale index or shard from an earlier export would win over the new single file at load time.
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String n = p.getFileName().toString();
                if (n.equals("model.safetensors") || n.equals("model.safetensors.index.json")
                        || (n.startsWith("model-") && n.endsWith(".safetensors"))) {
                    Files.delete(p);
                }
            }
        }
    }

    private static ObjectNode generationConfig(ModelConfig config) {
        ObjectNode g = JSON.createObjectNode();
        if (config.bosTokenId() >= 0) {
            g.put("bos_token_id", config.bosTokenId());
        }
        if (config.eosTokenIds().isEmpty()) {
            g.putNull("eos_token_id");
        } else if (config.eosTokenIds().size() == 1) {
            g.put("eos_token_id", config.eosTokenId());
        } else {
            config.eosTokenIds().forEach(g.putArray("eos_token_id")::add);
        }
        if (config.padTokenId() >= 0) {
            g.put("pad_token_id", config.padTokenId());
        }
        return g;
    }

    private static void writeTokenizer(TextTokenizer tokenizer, Path dir, ModelConfig config) throws IOException {
        if (tokenizer instanceof Llama2cTokenizer) {
            HfTokenizerJsonWriter.write((Llama2cTokenizer) tokenizer, dir, config.maxPositionEmbeddings());
        } else if (tokenizer instanceof HfTokenizer) {
            Path source = ((HfTokenizer) tokenizer).file();
            for (String name : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
                Path from = source.resolveSibling(name);
                Path to = dir.resolve(name);
                if (Files.isRegularFile(from) && !isSameFile(from, to)) {
                    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        // A randomly initialised model has no tokenizer: the folder then holds weights and config only.
    }

    private static boolean isSameFile(Path a, Path b) throws IOException {
        return Files.exists(b) && Files.isSameFile(a, b);
    }
}
