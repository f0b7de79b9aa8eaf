package dev.loku.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Model catalogue files for tests: models with their allowed tenants and a small IHL profile. */
public final class TestCatalogues {

    private TestCatalogues() {
    }

    /** The JSON of a catalogue with {@code modelsToTenants} (model id to its tenants), paths relative to the file. */
    public static String json(Map<String, List<String>> modelsToTenants) {
        return modelsToTenants.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> """
                {"id": "%s", "baseCheckpoint": "models/%s.bin", "tenants": [%s],
                 "retainData": "data/retain.jsonl", "unseenData": "data/unseen.jsonl",
                 "generalData": "data/general.jsonl",
                 "profile": {"method": "INVERTED_HINGE_LOSS", "loraRank": 4, "learningRate": 0.001, "maxEpochs": 10,
                             "retainTolerance": 0.05, "maxAttempts": 3}}"""
                .formatted(e.getKey(), e.getKey(), e.getValue().stream().map(t -> "\"" + t + "\"")
                        .collect(Collectors.joining(", "))))
                .collect(Collectors.joining(",\n", "{\"models\": [\n", "\n]}\n"));
    }

    /** Writes {@link #json} to {@code dir/catalogue.json} and returns the file. */
    public static Path write(Path dir, Map<String, List<String>> modelsToTenants) {
        try {
            Files.createDirectories(dir);
            return Files.writeString(dir.resolve("catalogue.json"), json(modelsToTenants));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
