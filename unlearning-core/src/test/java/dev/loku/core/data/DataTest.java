package dev.loku.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.metrics.ExtractionTarget;
import dev.loku.core.model.TokenBatch;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataTest {

    private static final int I = -100;

    private static List<TrainingRecord> parse(String jsonl) throws IOException {
        return JsonlRecords.parse(new StringReader(jsonl), "forget.jsonl");
    }

    @Test
    void qaLabelsCoverTheAnswerTagTheAnswerAndOneEos() {
        WhitespaceTokenizer tok = new WhitespaceTokenizer();
        ExampleEncoder enc = new ExampleEncoder(tok, 16);
        EncodedExample e = enc.encode(new QaRecord("Where was Ada born?", "In Paris.", 3));
        // "Question: Where was Ada born?\nAnswer: In Paris." -> <s> Question: Where was Ada born? Answer: In Paris.
        int q = tok.id("Question:");
        int[] words = {tok.id("Where"), tok.id("was"), tok.id("Ada"), tok.id("born?")};
        int a = tok.id("Answer:");
        int in = tok.id("In");
        int paris = tok.id("Paris.");
        assertArrayEquals(new int[] {1, q, words[0], words[1], words[2], words[3], a, in, paris, 2}, e.inputIds());
        // n_q = 6 (BOS + "Question:" + 4 words): those label positions are masked; "Answer:" is trained (§7.2).
        assertArrayEquals(new int[] {I, I, I, I, I, I, a, in, paris, 2}, e.labels());
        assertEquals(9, e.attendedLength(), "the EOS label's slot is not attended");
        assertEquals(4, e.labelCount());
        assertEquals(3, e.lineNumber());
        ExtractionTarget t = e.extractionTarget();
        assertEquals(6, t.contextLength());
        assertEquals(3, t.measuredLength(), "Answer: In Paris. (no EOS)");
    }

    @Test
    void rawTextTrainsOnEveryTokenAfterTheBos() {
        WhitespaceTokenizer tok = new WhitespaceTokenizer();
        EncodedExample e = new ExampleEncoder(tok, 16).encode(new TextRecord("Ada lives at 12 Rue Blanche", 1));
        assertEquals(7, e.length());
        assertEquals(I, e.labels()[0]);
        for (int j = 1; j < 7; j++) {
            assertEquals(e.inputIds()[j], e.labels()[j]);
        }
        assertEquals(7, e.attendedLength());
        assertEquals(new ExtractionTarget(e.inputIds(), 1).measuredLength(), e.extractionTarget().measuredLength());
        EncodedExample withEos = new ExampleEncoder(tok, QaTemplate.PLAIN, 16, true, true)
                .encode(new TextRecord("Ada lives at 12 Rue Blanche", 1));
        assertEquals(8, withEos.length());
        assertEquals(2, withEos.labels()[7]);
        assertEquals(7, withEos.attendedLength());
    }

    @Test
    void truncationCutsAtTheLimitAndThenLeavesNoRoomForEos() {
        WhitespaceTokenizer tok = new WhitespaceTokenizer();
        ExampleEncoder enc = new ExampleEncoder(tok, 5);
        EncodedExample qa = enc.encode(new QaRecord("Who?", "A very long answer indeed", 1));
        // <s> Question: Who? Answer: A | very long ... cut at 5: no EOS label, n_q = 3.
        assertEquals(5, qa.length());
        assertEquals(5, qa.attendedLength());
        assertArrayEquals(new int[] {I, I, I, tok.id("Answer:"), tok.id("A")}, qa.labels());
        EncodedExample text = enc.encode(new TextRecord("one two three four five six", 1));
        assertEquals(5, text.length());
        assertEquals(4, text.labelCount());
    }

    @Test
    void aRecordLeftWithoutLabelsIsReportedByLineWithoutItsContent() {
        WhitespaceTokenizer tok = new WhitespaceTokenizer();
        ExampleEncoder enc = new ExampleEncoder(tok, 4);
        List<TrainingRecord> records = List.of(
                new QaRecord("Ok?", "Yes", 1), // keeps "Answer:" as its one label
                new QaRecord("What is Jane Doe's phone number?", "555-0142", 2));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> enc.encodeAll(records, "f.jsonl"));
        assertEquals(2, e.lineNumber());
        assertTrue(e.getMessage().startsWith("f.jsonl line 2: the question alone fills the 4-token limit"),
                e.getMessage());
        assertFalse(e.getMessage().contains("Jane"), e.getMessage());
    }

    @Test
    void batchesPadRightWithPadIdAndGiveBackTheExamplesLabels() {
        WhitespaceTokenizer tok = new WhitespaceTokenizer();
        ExampleEncoder enc = new ExampleEncoder(tok, 16);
        EncodedExample qa = enc.encode(new QaRecord("Who?", "Bo.", 1)); // <s> Question: Who? Answer: Bo. [EOS]
        EncodedExample text = enc.encode(new TextRecord("x y", 2)); // <s> x y
        TokenBatch batch = ModelBatches.of(List.of(qa, text), tok.padId());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray idsArray = batch.idsArray(m);
            NDArray labelsArray = batch.labelsArray(m);
            assertEquals(new Shape(2, 6), idsArray.getShape());
            assertEquals(DataType.INT64, labelsArray.getDataType());
            long[] ids = idsArray.toLongArray();
            long[] labels = labelsArray.toLongArray();
            int x = tok.id("x");
            int y = tok.id("y");
            assertArrayEquals(new long[] {1, tok.id("Question:"), tok.id("Who?"), tok.id("Answer:"), tok.id("Bo."), 2,
                1, x, y, 0, 0, 0}, ids);
            // Every position of an example is attended, its unattended EOS slot too (it is the row's last, so no
            // scored position sees it); padding is not.
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, batch.attentionArray(m).toFloatArray());
            assertArrayEquals(new long[] {I, I, I, tok.id("Answer:"), tok.id("Bo."), 2, I, x, y, I, I, I}, labels);
        }
    }

    @Test
    void jsonlReadsBothFormsIgnoresExtraFieldsAndBlankLines() throws IOException {
        List<TrainingRecord> records = parse("""
                {"text": "Ada lives at 12 Rue Blanche."}

                {"split": "forget10", "index": 0, "question": "Who?", "answer": "Ada."}
                """);
        assertEquals(2, records.size());
        TextRecord t = assertInstanceOf(TextRecord.class, records.get(0));
        assertEquals("Ada lives at 12 Rue Blanche.", t.text());
        assertEquals(1, t.lineNumber());
        QaRecord qa = assertInstanceOf(QaRecord.class, records.get(1));
        assertEquals("Who?", qa.question());
        assertEquals(3, qa.lineNumber());
    }

    @Test
    void malformedLinesAreNamedByNumberNeverByContent() {
        String secret = "Jane Doe 555-0142";
        String[][] cases = {
            {"{\"text\": \"" + secret + "\"", "is not valid JSON"},
            {"[\"" + secret + "\"]", "expected a JSON object, found array"},
            {"{\"name\": \"" + secret + "\"}", "expected a \"text\" field, or \"question\" and \"answer\" fields"},
            {"{\"question\": \"" + secret + "\"}", "is missing the \"answer\" field"},
            {"{\"text\": \"" + secret + "\", \"answer\": \"x\"}", "has both"},
            {"{\"text\": 42}", "\"text\" must be a string"},
            {"{\"question\": \"q\", \"answer\": \"  \"}", "\"answer\" is empty"},
            {"not json " + secret, "is not valid JSON"},
        };
        for (String[] c : cases) {
            InvalidDataException e = assertThrows(InvalidDataException.class,
                    () -> parse("{\"text\": \"fine\"}\n" + c[0] + "\n"));
            assertEquals(2, e.lineNumber(), c[0]);
            assertTrue(e.getMessage().startsWith("forget.jsonl line 2: "), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertFalse(e.getMessage().contains("Jane") || e.getMessage().contains("555"), e.getMessage());
        }
        InvalidDataException empty = assertThrows(InvalidDataException.class, () -> parse("\n  \n"));
        assertTrue(empty.getMessage().contains("contains no records"), empty.getMessage());
    }

    @Test
    void templatesBuildThePromptAndTheFullText() {
        assertEquals("Question: Who?\nAnswer: Ada.", QaTemplate.PLAIN.fullText("Who?", "Ada."));
        assertEquals("Question: Who?\n", QaTemplate.PLAIN.questionPart("Who?"));
        assertEquals("[INST] Who? [/INST]Ada.", QaTemplate.LLAMA2_CHAT.fullText("Who?", "Ada."));
    }

    @Test
    void readsTheShippedTofuQuestions() throws IOException {
        Path file = Path.of(System.getProperty("loku.project.root", ".."), "data", "tofu", "tofu_qa.jsonl");
        List<TrainingRecord> records = JsonlRecords.read(file);
        assertEquals(Files.readAllLines(file).stream().filter(l -> !l.isBlank()).count(), records.size());
        assertTrue(records.stream().allMatch(r -> r instanceof QaRecord));
        List<EncodedExample> encoded = new ExampleEncoder(new WhitespaceTokenizer(), 500).encodeAll(records, "tofu");
        assertTrue(encoded.stream().allMatch(e -> e.labelCount() >= 2));
    }
}
