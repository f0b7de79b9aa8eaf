package dev.loku.runtime.catalogue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loku.events.AdapterInitialization;
import dev.loku.events.UnlearningObjective;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCatalogueTest {

    static final String GOOD = """
            {"models": [{
              "id": "stories260k",
              "baseCheckpoint": "models/stories260K.bin",
              "tenants": ["acme", "globex"],
              "retainData": "data/retain.jsonl",
              "unseenData": "data/unseen.jsonl",
              "generalData": "data/general.jsonl",
              "profile": {"method": "INVERTED_HINGE_LOSS", "loraRank": 4, "learningRate": 0.001, "maxEpochs": 10,
                          "retainTolerance": 0.05, "maxAttempts": 3,
                          "retry": {"learningRateFactor": 2.0, "maxEpochsFactor": 1.5, "loraRankFactor": 2.0}}
            }]}
            """;

    @Test
    void readsModelsWithPathsRelativeToTheFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("catalogue.json"), GOOD);
        ModelCatalogue catalogue = ModelCatalogue.load(file);
        CatalogueModel m = catalogue.require("stories260k");
        assertEquals(dir.resolve("models/stories260K.bin"), m.baseCheckpoint());
        assertTrue(m.allows("acme"));
        assertFalse(m.allows("initech"));
        assertEquals(UnlearningObjective.INVERTED_HINGE_LOSS, m.profile().method());
        assertEquals(AdapterInitialization.FILA, m.profile().initialization(), "FILA unless stated");
        assertTrue(catalogue.find("other").isEmpty());

        UnlearningProfile third = m.profile().forAttempt(3);
        assertEquals(0.004, third.learningRate(), 1e-12);
        assertEquals(23, third.maxEpochs(), "10 * 1.5^2 = 22.5, rounded up");
        assertEquals(16, third.loraRank());
        assertThrows(IllegalArgumentException.class, () -> m.profile().forAttempt(4));
        UnlearningProfile gentler = m.profile().forAttempt(3, dev.loku.events.RetryDirection.GENTLER);
        assertEquals(0.00025, gentler.learningRate(), 1e-12, "0.001 / 2^2: below every earlier attempt");
        assertEquals(5, gentler.maxEpochs(), "10 / 1.5^2 = 4.4, rounded up");
        assertEquals(4, gentler.loraRank(), "a gentler retry keeps the rank");
        assertEquals(UnlearningProfile.DEFAULT_GENERAL_TOLERANCE, m.profile().generalTolerance(), "default");
        assertEquals(dir.resolve("data/general.jsonl"), m.generalData());
        assertTrue(m.profile().canRetryAfter(2));
        assertFalse(m.profile().canRetryAfter(3));

        InvalidCatalogueException missing = assertThrows(InvalidCatalogueException.class, catalogue::checkFilesExist);
        assertTrue(missing.getMessage().contains("models[0].baseCheckpoint"), missing.getMessage());
    }

    @Test
    void errorsNameTheFileAndTheField(@TempDir Path dir) throws Exception {
        assertError(dir, GOOD.replace("\"loraRank\": 4", "\"loraRank\": 0"),
                "models[0].profile.loraRank: must be between 1 and 4096, was 0");
        assertError(dir, GOOD.replace("\"loraRank\"", "\"lora_rank\""),
                "models[0].profile: unknown field 'lora_rank'");
        assertError(dir, GOOD.replace("INVERTED_HINGE_LOSS", "IHL"),
                "models[0].profile.method: 'IHL' is not known; one of [INVERTED_HINGE_LOSS, GRADIENT_ASCENT");
        assertError(dir, GOOD.replace("[\"acme\", \"globex\"]", "[]"), "models[0].tenants: must be a non-empty array");
        assertError(dir, GOOD.replace("\"id\": \"stories260k\",", ""), "models[0].id: is required");
        assertError(dir, "{\"models\": [", "is not valid JSON (line");
        String twice = GOOD.replace("}]}", "}, " + GOOD.substring(GOOD.indexOf('[') + 1, GOOD.lastIndexOf(']')) + "]}");
        assertError(dir, twice, "models[1].id: 'stories260k' is listed twice");
    }

    private static void assertError(Path dir, String json, String expected) throws Exception {
        Path file = Files.writeString(dir.resolve("catalogue.json"), json);
        InvalidCatalogueException e = assertThrows(InvalidCatalogueException.class, () -> ModelCatalogue.load(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
