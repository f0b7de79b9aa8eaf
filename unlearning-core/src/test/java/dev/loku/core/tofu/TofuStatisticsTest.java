package dev.loku.core.tofu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The TOFU statistics against scipy 1.17.1: {@code stats.ks_2samp} (defaults) and {@code stats.hmean} values
 * printed by hand-run Python, the KS samples at TOFU's split sizes written and scored by
 * {@code src/test/python/tofu_golden.py}. The stemmer and ROUGE-L are checked in {@link TofuMetricsTest}.
 */
class TofuStatisticsTest {

    @Test
    void stemsLikeNltksPorterStemmer() {
        Map<String, String> nltk = Map.ofEntries(
                Map.entry("caresses", "caress"), Map.entry("ponies", "poni"), Map.entry("ties", "tie"),
                Map.entry("dies", "die"), Map.entry("flies", "fli"), Map.entry("skies", "sky"),
                Map.entry("dying", "die"), Map.entry("agreed", "agre"), Map.entry("plastered", "plaster"),
                Map.entry("motoring", "motor"), Map.entry("sing", "sing"), Map.entry("conflated", "conflat"),
                Map.entry("troubled", "troubl"), Map.entry("sized", "size"), Map.entry("hopping", "hop"),
                Map.entry("tanned", "tan"), Map.entry("falling", "fall"), Map.entry("hissing", "hiss"),
                Map.entry("fizzed", "fizz"), Map.entry("failing", "fail"), Map.entry("filing", "file"),
                Map.entry("happy", "happi"), Map.entry("enjoy", "enjoy"), Map.entry("relational", "relat"),
                Map.entry("conditional", "condit"), Map.entry("rational", "ration"), Map.entry("valenci", "valenc"),
                Map.entry("hesitanci", "hesit"), Map.entry("digitizer", "digit"), Map.entry("conformabli", "conform"),
                Map.entry("radicalli", "radic"), Map.entry("differentli", "differ"), Map.entry("vileli", "vile"),
                Map.entry("analogousli", "analog"), Map.entry("vietnamization", "vietnam"),
                Map.entry("predication", "predic"), Map.entry("operator", "oper"), Map.entry("feudalism", "feudal"),
                Map.entry("decisiveness", "decis"), Map.entry("hopefulness", "hope"),
                Map.entry("callousness", "callous"), Map.entry("formaliti", "formal"),
                Map.entry("sensitiviti", "sensit"), Map.entry("sensibiliti", "sensibl"),
                Map.entry("triplicate", "triplic"), Map.entry("formative", "form"), Map.entry("formalize", "formal"),
                Map.entry("electriciti", "electr"), Map.entry("electrical", "electr"), Map.entry("hopeful", "hope"),
                Map.entry("goodness", "good"), Map.entry("revival", "reviv"), Map.entry("allowance", "allow"),
                Map.entry("inference", "infer"), Map.entry("airliner", "airlin"), Map.entry("gyroscopic", "gyroscop"),
                Map.entry("adjustable", "adjust"), Map.entry("defensible", "defens"), Map.entry("irritant", "irrit"),
                Map.entry("replacement", "replac"), Map.entry("adjustment", "adjust"),
                Map.entry("dependent", "depend"), Map.entry("adoption", "adopt"), Map.entry("homologou", "homolog"),
                Map.entry("communism", "commun"), Map.entry("activate", "activ"), Map.entry("angulariti", "angular"),
                Map.entry("homologous", "homolog"), Map.entry("effective", "effect"),
                Map.entry("bowdlerize", "bowdler"), Map.entry("probate", "probat"), Map.entry("rate", "rate"),
                Map.entry("cease", "ceas"), Map.entry("controll", "control"), Map.entry("roll", "roll"),
                Map.entry("generously", "gener"), Map.entry("generalizations", "gener"),
                Map.entry("oscillators", "oscil"), Map.entry("eventually", "eventu"), Map.entry("fully", "fulli"),
                Map.entry("biology", "biolog"), Map.entry("archaeology", "archaeolog"), Map.entry("authors", "author"),
                Map.entry("novels", "novel"), Map.entry("writing", "write"), Map.entry("written", "written"),
                Map.entry("literary", "literari"), Map.entry("nominated", "nomin"), Map.entry("awards", "award"),
                Map.entry("recognized", "recogn"), Map.entry("characters", "charact"), Map.entry("narrative", "narr"));
        nltk.forEach((word, stem) -> assertEquals(stem, PorterStemmer.stem(word), word));
    }

    @Test
    void tokenisesAsRougeScore() {
        assertEquals(List.of("the", "author", "s", "full", "name", "is", "hsiao", "yun", "hwa"),
                RougeL.tokens("The author's full name is Hsiao Yun-Hwa."));
        assertEquals(List.of("hsiao", "yun", "hwa", "is", "part", "of", "the", "lgbtq", "commun"),
                RougeL.tokens("Hsiao Yun-Hwa is part of the LGBTQ+ community."));
        assertEquals(List.of(), RougeL.tokens(" ...! "));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "The author's full name is Hsiao Yun-Hwa.|The author's name is Hsiao Yun Hwa, a writer.|0.8888888888888888",
            "Hsiao Yun-Hwa is part of the LGBTQ+ community.|Hsiao Yun-Hwa identifies as part of the community of writers.|0.7777777777777778",
            "William Shakespeare|The play was written by William Shakespeare.|1.0",
            "His father was a civil engineer and his mother worked as a nurse.|His mother was a nurse, and his father worked as an engineer.|0.5384615384615384",
            "Generously nominated for awards, her novels explored characters' narratives.|Her novel explores the characters and narrative generously.|0.5555555555555556",
            "42 is the answer|none of these words|0.0",
            "''|anything|0.0"})
    void rougeLRecallMatchesAnIndependentLcs(String reference, String generated, double expected) {
        assertEquals(expected, RougeL.recall(reference, generated), 1e-12);
    }

    @Test
    void ksStatisticAndExactPValueMatchScipyOnSmallSamples() {
        double[] a = {0.001, 0.299, -0.274, -0.891, -0.455, -0.992, 0.06, 1.34, -0.492, -0.62, 0.49, 0.357};
        double[] b = {0.905, -0.13, 0.771, 1.495, -0.544, 0.342, -1.101, -0.49, -1.042};
        assertEquals(0.25, KolmogorovSmirnov.statistic(a, b), 1e-12);
        assertEquals(0.8505766679141292, KolmogorovSmirnov.pValue(a, b), 1e-10);
        // With ties, scipy's statistic compares the distribution functions after every tied value.
        double[] tiesA = {1, 1, 2, 2, 3, 3, 3, 4};
        double[] tiesB = {2, 3, 3, 4, 4, 5, 5, 6, 6, 7};
        assertEquals(0.575, KolmogorovSmirnov.statistic(tiesA, tiesB), 1e-12);
        assertEquals(0.07043283513871751, KolmogorovSmirnov.pValue(tiesA, tiesB), 1e-10);
    }

    @ParameterizedTest
    @CsvSource({
            "40, 40, 0.475, 0.00018791118070078278",
            "200, 200, 0.125, 0.0878382826713132",
            "300, 300, 0.10666666666666667, 0.06580849821915531",
            "40, 300, 0.245, 0.02418120030825614",
            "400, 300, 0.11166666666666666, 0.02598052487643649"})
    void ksExactPValueMatchesScipyAtTofuSizes(int n, int m, double d, double p) throws IOException {
        double[] x = sample("ks_" + n + "_" + m + "_x.txt");
        double[] y = sample("ks_" + n + "_" + m + "_y.txt");
        assertEquals(d, KolmogorovSmirnov.statistic(x, y), 1e-12);
        assertEquals(p, KolmogorovSmirnov.pValue(x, y), 1e-9 * Math.max(1, p));
        assertEquals(KolmogorovSmirnov.pValue(x, y), KolmogorovSmirnov.pValue(y, x), 1e-12, "symmetric");
    }

    @Test
    void identicalSamplesGiveOneAndDisjointSamplesAVerySmallPValue() {
        double[] a = {1, 2, 3, 4, 5};
        assertEquals(1.0, KolmogorovSmirnov.pValue(a, a.clone()), 0);
        double[] low = new double[50];
        double[] high = new double[50];
        for (int i = 0; i < 50; i++) {
            low[i] = i;
            high[i] = 100 + i;
        }
        // P(D = 1) for two samples of 50 is 2 / C(100, 50).
        assertEquals(2 / 1.008913445455642e29, KolmogorovSmirnov.pValue(low, high), 1e-35);
    }

    @Test
    void harmonicMeanMatchesScipyAndCollapsesOnAZero() {
        assertEquals(0.305222848893402, HarmonicMean.of(0.5, 0.25, 0.8, 0.9, 0.1, 0.33, 0.6, 0.7, 0.2), 1e-14);
        assertEquals(0.0, HarmonicMean.of(0.5, 0.0, 0.9), 0);
        assertThrows(IllegalArgumentException.class, () -> HarmonicMean.of(0.5, -0.1));
        assertThrows(IllegalArgumentException.class, () -> HarmonicMean.of(Double.NaN));
    }

    private static double[] sample(String name) throws IOException {
        try (InputStream in = TofuStatisticsTest.class.getResourceAsStream("/tofu/ks/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource tofu/ks/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank())
                    .mapToDouble(Double::parseDouble).toArray();
        }
    }
}
