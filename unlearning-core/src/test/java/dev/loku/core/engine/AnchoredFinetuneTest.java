package dev.loku.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loku.core.data.SyntheticPersons;
import dev.loku.core.testing.ProjectFiles;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The anchor term of a fine-tune, against a computation written out by hand, and its effect on a real model. */
class AnchoredFinetuneTest {

    @TempDir
    Path dir;

    @Test
    void maskedMeanKlEqualsTheSumWrittenOutOverRealPositions() {
        int b = 2;
        int t = 3;
        int v = 5;
        Random random = new Random(4);
        float[] ref = new float[b * t * v];
        float[] cur = new float[b * t * v];
        for (int i = 0; i < ref.length; i++) {
            ref[i] = (float) random.nextGaussian() * 2;
            cur[i] = (float) random.nextGaussian() * 2;
        }
        float[] mask = {1, 1, 1, 1, 1, 0};
        double expected = 0;
        int real = 0;
        for (int row = 0; row < b * t; row++) {
            if (mask[row] == 0) {
                continue;
            }
            real++;
            double[] p = softmax(ref, row * v, v);
            double[] q = softmax(cur, row * v, v);
            for (int k = 0; k < v; k++) {
                expected += p[k] * (Math.log(p[k]) - Math.log(q[k]));
            }
        }
        expected /= real;
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray kl = AnchorDivergence.maskedMeanKl(m.create(ref, new Shape(b, t, v)),
                    m.create(cur, new Shape(b, t, v)), m.create(mask, new Shape(b, t)));
            assertEquals(expected, kl.getFloat(), 1e-5);
            NDArray same = AnchorDivergence.maskedMeanKl(m.create(ref, new Shape(b, t, v)),
                    m.create(ref, new Shape(b, t, v)), m.create(mask, new Shape(b, t)));
            assertEquals(0, same.getFloat(), 1e-6, "a model is at KL 0 from itself");
        }
    }

    @Test
    void anchoringKeepsTheStoriesTheModelWasAnchoredOn() throws Exception {
        UnlearningEngine engine = new UnlearningEngine(Device.cpu());
        Path persons = dir.resolve("persons.jsonl");
        EngineTuningBench.writePersons(persons, SyntheticPersons.generate(21, 40));
        Path stories = ProjectFiles.data("stories/stories.jsonl");
        double shipped = engine.score(ProjectFiles.stories260K(), stories).nll();

        FinetuneSettings plain = new FinetuneSettings(6, 3e-3, 8, 5);
        FinetuneResult unanchored = engine.finetune(ProjectFiles.stories260K(), persons, plain,
                dir.resolve("plain"), null);
        FinetuneResult anchored = engine.finetune(ProjectFiles.stories260K(), persons, stories,
                new FinetuneSettings(6, 3e-3, 8, 5, 1.0), dir.resolve("anchored"), null);
        FinetuneResult zeroWeight = engine.finetune(ProjectFiles.stories260K(), persons, stories,
                new FinetuneSettings(6, 3e-3, 8, 5, 0.0), dir.resolve("zero"), null);

        double plainNll = engine.score(unanchored.modelDir(), stories).nll();
        double anchoredNll = engine.score(anchored.modelDir(), stories).nll();
        assertTrue(plainNll > shipped + 0.3, "the plain fine-tune costs story NLL: " + shipped + " -> " + plainNll);
        assertTrue(anchoredNll < shipped + (plainNll - shipped) / 2, "the anchor holds at least half of it back: "
                + shipped + " -> " + anchoredNll + " (plain " + plainNll + ")");
        assertEquals(unanchored.finalLoss(), zeroWeight.finalLoss(), 0.0, "weight 0 is the plain fine-tune");
        assertThrows(IllegalArgumentException.class, () -> new FinetuneSettings(1, 1e-3, 1, 1, -1));
    }

    private static double[] softmax(float[] x, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[from + i]);
        }
        double[] out = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            out[i] = Math.exp(x[from + i] - max);
            sum += out[i];
        }
        for (int i = 0; i < n; i++) {
            out[i] /= sum;
        }
        return out;
    }
}
