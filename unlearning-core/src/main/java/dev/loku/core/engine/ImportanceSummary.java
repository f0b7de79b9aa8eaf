package dev.loku.core.engine;

import java.nio.file.Path;

/**
 * A saved Fisher importance file (docs/method.md §2.2) and the label-token counts N_f and N_r behind it.
 */
public record ImportanceSummary(Path file, long forgetTokens, long retainTokens) {}
