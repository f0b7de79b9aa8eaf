package dev.loku.core.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.io.SafetensorsFile;
import dev.loku.core.testing.ProjectFiles;
import dev.loku.core.testing.RawSafetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees when a model cannot be loaded: one line naming the file and, where one is at fault, the tensor. */
class ModelErrorsTest {
    @TempDir
    static Path tmp;
    private static Path good;

    @BeforeAll
    static void export() {
        good = tmp.resolve("good");
        try (CausalLm m = ModelLoader.load(ProjectFiles.stories260K(), Device.cpu())) {
            HfExporter.export(m, good);
        }
    }

    private static Path copyOfGood(String name) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(good.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    private static String failure(Path path) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelLoader.load(path, Device.cpu()));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + message + "' should mention " + p);
        }
    }

    @Test
    void missingPath() {
        Path p = tmp.resolve("no-such-model");
        assertMentions(failure(p), p.toString());
    }

    @Test
    void missingWeightsFile() throws Exception {
        Path dir = copyOfGood("no-weights");
        Files.delete(dir.resolve("model.safetensors"));
        assertMentions(failure(dir), dir.resolve("model.safetensors").toString(), "not found");
    }

    @Test
    void missingTokenizer() throws Exception {
        Path dir = copyOfGood("no-tokenizer");
        Files.delete(dir.resolve("tokenizer.json"));
        assertMentions(failure(dir), dir.resolve("tokenizer.json").toString(), "not found");
    }

    @Test
    void missingShardListedInTheIndex() throws Exception {
        Path dir = copyOfGood("missing-shard");
        Files.delete(dir.resolve("model.safetensors"));
        ObjectNode index = new ObjectMapper().createObjectNode();
        index.putObject("weight_map").put("model.embed_tokens.weight", "model-00001-of-00002.safetensors");
        new ObjectMapper().writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        assertMentions(failure(dir), "model-00001-of-00002.safetensors", "not found");
    }

    @Test
    void wrongTensorShape() throws Exception {
        Path dir = copyOfGood("wrong-shape");
        String bad = "model.layers.2.self_attn.k_proj.weight";
        rewriteWeights(dir, bad, true);
        assertMentions(failure(dir), dir.resolve("model.safetensors").toString(), bad, "[64, 32]", "[32, 64]");
    }

    @Test
    void missingTensor() throws Exception {
        Path dir = copyOfGood("missing-tensor");
        String gone = "model.layers.4.mlp.down_proj.weight";
        rewriteWeights(dir, gone, false);
        assertMentions(failure(dir), dir.resolve("model.safetensors").toString(), gone, "missing");
    }

    @Test
    void unsupportedArchitectureIsRefusedInOneLineNamingTheSupportedOnes() throws Exception {
        Path dir = copyOfGood("gpt2");
        ObjectNode c = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        c.putArray("architectures").add("GPT2LMHeadModel");
        c.put("model_type", "gpt2");
        new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), c);
        assertMentions(failure(dir), dir.resolve("config.json").toString(), "GPT2LMHeadModel", "not supported",
                "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "GPTNeoForCausalLM", "PhiForCausalLM");
    }

    @Test
    void truncatedLlama2cCheckpoint() throws Exception {
        Path dir = tmp.resolve("truncated-bin");
        Files.createDirectories(dir);
        byte[] bin = Files.readAllBytes(ProjectFiles.stories260K().resolve("stories260K.bin"));
        Files.write(dir.resolve("model.bin"), Arrays.copyOf(bin, bin.length / 2));
        Files.copy(ProjectFiles.stories260K().resolve("tok512.bin"), dir.resolve("tok512.bin"));
        assertMentions(failure(dir), dir.resolve("model.bin").toString(), "truncated");
        assertMentions(failure(dir.resolve("model.bin")), "model.bin");
    }

    @Test
    void llama2cCheckpointWithoutTokenizer() throws Exception {
        Path dir = tmp.resolve("bin-alone");
        Files.createDirectories(dir);
        Files.copy(ProjectFiles.stories260K().resolve("stories260K.bin"), dir.resolve("stories260K.bin"));
        assertMentions(failure(dir), "no tokenizer", "stories260K.bin");
    }

    @Test
    void notAModelFolder() throws Exception {
        Path dir = tmp.resolve("empty");
        Files.createDirectories(dir);
        assertMentions(failure(dir), dir.toString(), "config.json");
    }

    /** Rewrites model.safetensors without {@code name} (or with it transposed when {@code reshape}). */
    private static void rewriteWeights(Path dir, String name, boolean reshape) throws Exception {
        Path file = dir.resolve("model.safetensors");
        RawSafetensors raw = new RawSafetensors();
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            for (SafetensorsFile.Entry e : st.entries()) {
                if (!e.name().equals(name)) {
                    raw.put(e.name(), "F32", e.shape(), RawSafetensors.f32(st.readFloats(e.name())));
                } else if (reshape) {
                    long[] transposed = {e.shape()[1], e.shape()[0]};
                    raw.put(e.name(), "F32", transposed, RawSafetensors.f32(st.readFloats(e.name())));
                }
            }
        }
        raw.write(file);
    }
}
