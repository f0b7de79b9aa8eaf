package dev.loku.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.data.SyntheticPersons;
import dev.loku.core.data.SyntheticPersons.Person;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The memorisation experiment's people, split the way Jang et al.'s protocol needs them (docs/method.md §3.2, §5.1):
 * <ul>
 *   <li><b>trained</b>: the records the model is fine-tuned on until it reproduces them;</li>
 *   <li><b>forget</b>: a seeded random subset of the trained records (the erasure request);</li>
 *   <li><b>retain</b>: the other trained records, which should stay memorised;</li>
 *   <li><b>unseen</b>: people from the same generator that the model never trains on; the model's MA and EL_10 on
 *       them are the thresholds "forgotten" is measured against.</li>
 * </ul>
 * All people come from one {@link SyntheticPersons#generate} call, so no unseen person shares a name or a phone
 * number with a trained one. The same arguments always give the same splits.
 */
record ExperimentData(List<Person> trained, List<Person> forget, List<Person> retain, List<Person> unseen) {

    /** File names {@link #writeJsonl} uses, one {"text": ...} line per person. */
    static final String TRAINED = "trained.jsonl";
    /** The taught people followed by the replay stories: what fine-tuning reads. */
    static final String FINETUNE = "finetune.jsonl";
    /** The replay stories alone: the anchor texts of an anchored fine-tune. */
    static final String REPLAY = "replay.jsonl";
    static final String FORGET = "forget.jsonl";
    static final String RETAIN = "retain.jsonl";
    static final String UNSEEN = "unseen.jsonl";

    ExperimentData {
        trained = List.copyOf(trained);
        forget = List.copyOf(forget);
        retain = List.copyOf(retain);
        unseen = List.copyOf(unseen);
    }

    /**
     * Splits {@code persons + unseenCount} generated people.
     *
     * @param persons        how many people the model is taught
     * @param forgetFraction share of the taught people to forget, rounded to the nearest whole person (at least 1,
     *                       and at least one person is kept in the retain split)
     * @param unseenCount    how many never-taught people measure the thresholds
     * @param seed           seeds both the generator and the choice of the forget subset
     */
    static ExperimentData split(int persons, double forgetFraction, int unseenCount, long seed) {
        if (persons < 2) {
            throw new IllegalArgumentException("at least 2 persons are needed (one to forget, one to retain), got "
                    + persons);
        }
        if (!(forgetFraction > 0 && forgetFraction < 1)) {
            throw new IllegalArgumentException("the forget fraction must lie strictly between 0 and 1, got "
                    + forgetFraction);
        }
        if (unseenCount < 1) {
            throw new IllegalArgumentException("at least 1 unseen person is needed for the thresholds, got "
                    + unseenCount);
        }
        List<Person> all = SyntheticPersons.generate(seed, persons + unseenCount);
        List<Person> trained = all.subList(0, persons);
        List<Person> unseen = all.subList(persons, all.size());
        int forgetCount = (int) Math.min(persons - 1, Math.max(1, Math.round(forgetFraction * persons)));

        // A seeded partial Fisher-Yates shuffle picks the forget subset; both splits keep the generator's order.
        int[] order = new int[persons];
        for (int i = 0; i < persons; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        boolean[] forgotten = new boolean[persons];
        for (int i = 0; i < forgetCount; i++) {
            int j = i + random.nextInt(persons - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
            forgotten[order[i]] = true;
        }
        List<Person> forget = new ArrayList<>(forgetCount);
        List<Person> retain = new ArrayList<>(persons - forgetCount);
        for (int i = 0; i < persons; i++) {
            (forgotten[i] ? forget : retain).add(trained.get(i));
        }
        return new ExperimentData(trained, forget, retain, unseen);
    }

    /**
     * Writes the four splits as JSONL files into {@code dir} (created if needed), {@link #REPLAY} and
     * {@link #FINETUNE}: the taught people's records, followed by {@code replayStories} when {@code replayInFinetune}
     * (replay trained with the plain NLL; an anchored fine-tune reads them from {@link #REPLAY} instead).
     */
    void writeJsonl(Path dir, List<String> replayStories, boolean replayInFinetune) throws IOException {
        Files.createDirectories(dir);
        List<String> finetune = new ArrayList<>(trained.stream().map(Person::text).toList());
        if (replayInFinetune) {
            finetune.addAll(replayStories);
        }
        writeTexts(dir.resolve(REPLAY), replayStories);
        writeTexts(dir.resolve(FINETUNE), finetune);
        write(dir.resolve(TRAINED), trained);
        write(dir.resolve(FORGET), forget);
        write(dir.resolve(RETAIN), retain);
        write(dir.resolve(UNSEEN), unseen);
    }

    /**
     * sha256 of the forget split's subject ids in order: identifies the forget set in the published results
     * without printing whom it names (the ids are positions in a synthetic list, the hash is of those only).
     */
    String forgetSubjectsSha256() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Person p : forget) {
                sha.update(p.subjectId().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    private static void write(Path file, List<Person> people) throws IOException {
        writeTexts(file, people.stream().map(Person::text).toList());
    }

    private static void writeTexts(Path file, List<String> texts) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (String text : texts) {
                ObjectNode line = CliJson.MAPPER.createObjectNode();
                line.put("text", text);
                w.write(CliJson.write(line));
                w.write('\n');
            }
        }
    }
}
