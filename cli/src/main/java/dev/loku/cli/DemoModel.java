package dev.loku.cli;

import dev.loku.core.data.SyntheticPersons;
import dev.loku.core.engine.FinetuneResult;
import dev.loku.core.engine.FinetuneSettings;
import dev.loku.core.engine.UnlearningEngine;
import dev.loku.runtime.artifact.Sha256;
import dev.loku.runtime.job.JobWorkDir;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

/**
 * The demo's deployed model: stories260K fine-tuned until it memorised synthetic person records
 * ({@link SyntheticPersons}, a fixed seed), the situation LoKU starts from (docs/method.md §1: a model that can
 * reproduce personal records verbatim). The people are split three ways: the first {@code forget} are the ones whose
 * erasure the demo requests, the next {@code retain} are memorised too and must stay (the model's retain data),
 * and the last {@code unseen} were never trained on (the unseen data the thresholds are measured on, docs/method.md §5.1).
 *
 * <p>The fine-tune is cached: its folder is named by the SHA-256 of everything that shapes it (the base
 * checkpoint's bytes, the training JSONL, the settings), written to a temporary folder and renamed into place when
 * complete, so a second run, or a run after an interrupted one, reuses or redoes it correctly.
 *
 * @param forgetPersons the persons the demo asks to forget (memorised)
 * @param retainPersons the other memorised persons
 * @param unseenPersons persons the model never saw
 * @param modelDir      the fine-tuned model (Hugging Face folder)
 * @param retainJsonl   retain persons' records
 * @param unseenJsonl   unseen persons' records
 * @param cached        whether the fine-tune came from the cache
 * @param trainMa       memorisation accuracy on the training data after the fine-tune (NaN when cached)
 */
record DemoModel(List<SyntheticPersons.Person> forgetPersons, List<SyntheticPersons.Person> retainPersons,
                 List<SyntheticPersons.Person> unseenPersons, Path modelDir, Path retainJsonl, Path unseenJsonl,
                 boolean cached, double trainMa) {

    /** Seed of the synthetic persons. */
    static final long PERSONS_SEED = 20_250_424L;
    /** The fine-tune: enough epochs at this rate for stories260K to reproduce the records (train MA near 1). */
    static final FinetuneSettings FINETUNE = new FinetuneSettings(60, 3e-3, 8, 7L);
    /**
     * Train MA the fine-tune must reach before its model is used and cached (it reaches about 0.99): a model that
     * did not memorise would make every later run's requests meaningless, and a cache would keep it.
     */
    static final double MIN_TRAIN_MA = 0.9;

    /** Bumped when the way the demo model is made changes, so old caches are not reused. */
    private static final String RECIPE = "loku-demo-model/1";

    /** Splits the persons of {@link #PERSONS_SEED}: forget, retain, unseen (in this order). */
    static List<List<SyntheticPersons.Person>> persons(int forget, int retain, int unseen) {
        List<SyntheticPersons.Person> all = SyntheticPersons.generate(PERSONS_SEED, forget + retain + unseen);
        return List.of(all.subList(0, forget), all.subList(forget, forget + retain),
                all.subList(forget + retain, all.size()));
    }

    /** Persons' records as JSONL ({@code {"text"}} per line). */
    static String jsonl(List<SyntheticPersons.Person> persons) {
        StringBuilder sb = new StringBuilder();
        for (SyntheticPersons.Person p : persons) {
            sb.append(CliJson.write(CliJson.MAPPER.createObjectNode().put("text", p.text()))).append('\n');
        }
        return sb.toString();
    }

    /**
     * Makes (or finds in {@code cacheRoot}) the memorised model and writes the retain and unseen data into
     * {@code dataDir}.
     *
     * @param base      the stories260K checkpoint (llama2.c .bin or HF folder)
     * @param epochDone told about each fine-tune epoch (1-based) when the fine-tune runs
     */
    static DemoModel prepare(UnlearningEngine engine, Path base, Path cacheRoot, Path dataDir, int forget, int retain,
                             int unseen, FinetuneSettings settings, IntConsumer epochDone)
            throws IOException, InterruptedException {
        List<List<SyntheticPersons.Person>> split = persons(forget, retain, unseen);
        List<SyntheticPersons.Person> trained = Stream.concat(split.get(0).stream(), split.get(1).stream()).toList();
        String train = jsonl(trained);
        Files.createDirectories(dataDir);
        Path retainJsonl = Files.writeString(dataDir.resolve("retain.jsonl"), jsonl(split.get(1)));
        Path unseenJsonl = Files.writeString(dataDir.resolve("unseen.jsonl"), jsonl(split.get(2)));

        String key = cacheKey(base, train, settings);
        Path target = cacheRoot.resolve("demo-model-" + key.substring(0, 16));
        if (Files.isRegularFile(target.resolve("model/config.json"))) {
            return new DemoModel(split.get(0), split.get(1), split.get(2), target.resolve("model"), retainJsonl,
                    unseenJsonl, true, Double.NaN);
        }
        Files.createDirectories(cacheRoot);
        Path tmp = Files.createTempDirectory(cacheRoot, ".demo-model-tmp-");
        try {
            Path trainFile = Files.writeString(tmp.resolve("train.jsonl"), train);
            FinetuneResult result = engine.finetune(base, trainFile, settings, tmp.resolve("model"), epochDone);
            if (!result.modelDir().equals(tmp.resolve("model"))) {
                throw new IllegalStateException("the fine-tune wrote its model outside " + tmp.resolve("model"));
            }
            if (!(result.trainMa() >= MIN_TRAIN_MA)) {
                throw new IllegalStateException(String.format(Locale.ROOT, "the demo model did not memorise its"
                        + " records (train MA %.3f, loss %.4f, at least %.2f needed); nothing was cached",
                        result.trainMa(), result.finalLoss(), MIN_TRAIN_MA));
            }
            Files.writeString(tmp.resolve("recipe.txt"), RECIPE + "\nkey " + key + "\nsettings " + settings
                    + "\ntrain_ma " + result.trainMa() + "\nfinal_loss " + result.finalLoss() + "\n");
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (!Files.isRegularFile(target.resolve("model/config.json"))) {
                    throw e; // not a concurrent run that finished first
                }
            }
            return new DemoModel(split.get(0), split.get(1), split.get(2), target.resolve("model"), retainJsonl,
                    unseenJsonl, false, result.trainMa());
        } finally {
            JobWorkDir.deleteRecursively(tmp);
        }
    }

    static String cacheKey(Path base, String train, FinetuneSettings settings) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        md.update((RECIPE + "\n" + settings + "\n").getBytes(StandardCharsets.UTF_8));
        md.update(Sha256.hex(train.getBytes(StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
        List<Path> files;
        if (Files.isDirectory(base)) {
            try (Stream<Path> s = Files.walk(base)) {
                files = s.filter(Files::isRegularFile).sorted(Comparator.comparing(p -> base.relativize(p).toString()))
                        .toList();
            }
        } else {
            files = List.of(base);
        }
        byte[] buffer = new byte[1 << 16];
        for (Path f : files) {
            md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            try (InputStream in = new DigestInputStream(Files.newInputStream(f), md)) {
                while (in.read(buffer) >= 0) {
                    // digested as read
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
