package dev.loku.core.tokenizer;

/**
 * Text to token ids and back, the contract every model's tokenizer meets (llama2.c vocabularies, Hugging Face
 * {@code tokenizer.json}). Ids never include an EOS unless the caller appends one.
 */
public interface TextTokenizer {

    /** Token ids of {@code text}, with the BOS id first when {@code addBos} is true. */
    int[] encode(String text, boolean addBos);

    /** Text of {@code ids}, skipping special ids (BOS, EOS, padding). */
    String decode(int[] ids);

    int vocabSize();

    int bosId();

    int eosId();

    /** The id used to pad batches; padded positions are always masked, so any valid id works. */
    int padId();
}
