package dev.loku.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code loku bench peer}: the engine side's rows, and the skip line when the Python side cannot run. */
class PeerBenchCliTest {

    @Test
    void printsEveryEngineRowAndSaysWhyThePeerWasSkipped() {
        LmCliTest.Run r = LmCliTest.run("bench", "peer", "--model", "tiny", "--batch", "1", "--seq", "8",
                "--prompts", "2", "--prompt-length", "4", "--new-tokens", "3", "--el-sequences", "2",
                "--el-length", "14", "--el-naive", "1", "--iters", "1", "--warmup", "0",
                "--python", "/nonexistent/python");
        assertEquals(0, r.exitCode(), r.err());
        for (String row : new String[] {"forward, no grad", "LoRA forward+backward", "LoRA IHL+NLL step + Adam",
            "greedy generation", "EL_10 (batched)", "Fisher pass (forget+retain)", "FILA attach",
            "FILA, the peer's sketch",
            "epoch + full evaluation", "epoch + stop-rule eval", "GEMM 8x"}) {
            assertTrue(r.out().contains(row), row + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("peer side skipped: "), r.out());
        assertTrue(r.out().contains("EL_10 batched (shared prefill + KV cache) against naive"), r.out());
    }
}
