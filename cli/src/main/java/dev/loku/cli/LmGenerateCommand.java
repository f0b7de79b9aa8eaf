package dev.loku.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.loku.core.model.CausalLm;
import dev.loku.core.tokenizer.TextTokenizer;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loku lm generate}: greedy continuation of a prompt, stopping at an end-of-sequence id or after
 * {@code --max-new-tokens}. With {@code --json} stdout holds exactly one JSON object:
 * {@code {"ids":[prompt ids with BOS, then the generated ids], "text":"the decoded continuation only"}}.
 */
@Command(name = "generate", description = "Greedy continuation of a prompt (KV cache; stops at EOS or the limit).")
final class LmGenerateCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--prompt", required = true, description = "The prompt (BOS is prepended; may be empty).")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N",
            description = "Most tokens to generate. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--json", description = "Print one JSON object instead of the text.")
    boolean json;

    @Override
    public void run() {
        if (maxNewTokens < 0) {
            throw new UserException("--max-new-tokens must be 0 or more, got " + maxNewTokens);
        }
        try (CausalLm model = modelOptions.load()) {
            TextTokenizer tok = model.tokenizer();
            int[] promptIds = tok.encode(prompt, true);
            int[] generated = model.generateGreedy(promptIds, maxNewTokens);
            int[] all = new int[promptIds.length + generated.length];
            System.arraycopy(promptIds, 0, all, 0, promptIds.length);
            System.arraycopy(generated, 0, all, promptIds.length, generated.length);
            String continuation = continuation(tok, promptIds, all, generated);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectNode o = CliJson.MAPPER.createObjectNode();
                ArrayNode ids = o.putArray("ids");
                for (int id : all) {
                    ids.add(id);
                }
                o.put("text", continuation);
                out.println(CliJson.write(o));
            } else {
                out.println(prompt + continuation);
            }
            out.flush();
        }
    }

    /**
     * The text the generated tokens add to the prompt: decode(prompt + generated) minus decode(prompt). Decoding the
     * new ids alone would lose the leading space SentencePiece-style decoders strip from a first token, and would
     * garble a character whose UTF-8 bytes straddle the boundary.
     */
    static String continuation(TextTokenizer tok, int[] promptIds, int[] all, int[] generated) {
        String full = tok.decode(all);
        String head = tok.decode(promptIds);
        return full.startsWith(head) ? full.substring(head.length()) : tok.decode(generated);
    }
}
