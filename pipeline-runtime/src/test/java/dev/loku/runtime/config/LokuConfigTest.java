package dev.loku.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LokuConfigTest {

    static final ConfigField<Integer> BATCH = ConfigField.of("test.batch.max.requests", ConfigType.INT)
            .defaultValue(8).validator(Validator.atLeast(1)).description("Requests per set.").build();
    static final ConfigField<Duration> WAIT = ConfigField.of("test.batch.max.wait", ConfigType.DURATION)
            .defaultValue(Duration.ofSeconds(30)).validator(Validator.positiveDuration()).description("Longest wait.").build();
    static final ConfigField<Path> DATA = ConfigField.of("test.data", ConfigType.PATH).description("A file.").build();
    static final ConfigGroup GROUP = ConfigGroup.of("test", "Test service", BATCH, WAIT, DATA);

    @Test
    void fileValuesEnvironmentOverridesAndDefaults(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("svc.properties");
        Files.writeString(file, "test.batch.max.requests=3\ntest.data=data/x.jsonl\nkafka.security.protocol=SSL\n");
        LokuConfig config = LokuConfig.load(file, Map.of("LOKU_TEST_BATCH_MAX_WAIT", "500ms"), List.of(GROUP));

        assertEquals(3, config.get(BATCH));
        assertEquals(Duration.ofMillis(500), config.get(WAIT));
        assertEquals(dir.resolve("data/x.jsonl"), config.get(DATA), "relative paths resolve against the file's folder");
        assertEquals("environment LOKU_TEST_BATCH_MAX_WAIT", config.sourceOf(WAIT));
        assertEquals(Map.of("security.protocol", "SSL"), config.kafkaOverrides());

        LokuConfig envWins = LokuConfig.load(file, Map.of("LOKU_TEST_BATCH_MAX_REQUESTS", "12"), List.of(GROUP));
        assertEquals(12, envWins.get(BATCH));
    }

    @Test
    void everyBadFieldIsNamedWithItsSourceAndWhatIsAllowed(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "test.batch.max.requests=0\n");
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> LokuConfig.load(file, Map.of("LOKU_TEST_BATCH_MAX_WAIT", "30"), List.of(GROUP)));

        assertEquals(3, e.problems().size(), e.getMessage());
        assertEquals("test.batch.max.requests = '0' (file " + file + "): not allowed; allowed: >= 1", e.problems().get(0));
        assertTrue(e.problems().get(1).startsWith("test.batch.max.wait = '30' (environment LOKU_TEST_BATCH_MAX_WAIT): "
                + "not a duration"), e.problems().get(1));
        assertEquals("test.data is required (set it in the config file or as LOKU_TEST_DATA); allowed: a file-system path",
                e.problems().get(2));
    }

    @Test
    void environmentVariableNamesFollowTheFieldName() {
        assertEquals("LOKU_INGEST_BATCH_MAX_REQUESTS", ConfigField.envVarFor("ingest.batch.max.requests"));
        assertEquals("LOKU_TEST_BATCH_MAX_WAIT", WAIT.envVar());
    }

    @Test
    void durationsNeedAUnit() {
        assertEquals(Duration.ofMinutes(5), ConfigType.DURATION.parse("5m"));
        assertEquals(Duration.ofSeconds(30), ConfigType.DURATION.parse("PT30S"));
        assertThrows(IllegalArgumentException.class, () -> ConfigType.DURATION.parse("30"));
        assertEquals("2h", ConfigType.DURATION.format(Duration.ofHours(2)));
        assertEquals("1500ms", ConfigType.DURATION.format(Duration.ofMillis(1500)));
    }

    @Test
    void aDefaultThatBreaksItsOwnRuleFailsAtDeclaration() {
        assertThrows(IllegalArgumentException.class, () -> ConfigField.of("x.y", ConfigType.INT).defaultValue(0)
                .validator(Validator.atLeast(1)).description("d").build());
    }

    @Test
    void docsListEveryFieldWithEnvironmentVariableAndDefault() {
        String md = ConfigDocs.markdown(List.of(CommonConfig.GROUP, GROUP));
        assertTrue(md.contains("| `test.batch.max.wait` | `LOKU_TEST_BATCH_MAX_WAIT` | duration | 30s | > 0 | Longest wait. |"), md);
        assertTrue(md.contains("| `artifacts.root` | `LOKU_ARTIFACTS_ROOT` | path | *required* |"), md);
        assertTrue(md.contains("| `service.instance.id` | `LOKU_SERVICE_INSTANCE_ID` | string | the host name |"), md);
        assertTrue(ConfigDocs.text(List.of(GROUP)).contains("test.data  (LOKU_TEST_DATA, path, required)"));
    }

    @Test
    void commonConfigBuildsClientSettings() {
        LokuConfig config = LokuConfig.of(Map.of("bootstrap.servers", "a:9092, b:9093", "artifacts.root", "/tmp/a",
                "models.catalogue", "/tmp/c.json", "kafka.security.protocol", "SSL"), List.of(CommonConfig.GROUP));
        CommonConfig common = CommonConfig.from(config);
        assertEquals(Map.of("bootstrap.servers", "a:9092,b:9093", "security.protocol", "SSL"), common.kafkaClientBase());
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> LokuConfig.of(Map.of(
                "bootstrap.servers", "nohost", "artifacts.root", "/a", "models.catalogue", "/c", "http.port", "70000"),
                List.of(CommonConfig.GROUP)));
        assertEquals(2, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains("bootstrap.servers = 'nohost' (settings): not allowed; allowed: host:port pairs"), e.getMessage());
        assertTrue(e.getMessage().contains("http.port = '70000' (settings): not allowed; allowed: between 0 and 65535"), e.getMessage());
    }
}
