package dev.loku.core.tokenizer;

import java.io.ByteArrayOutputStream;
import dev.loku.core.io.FileFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The llama2.c tokenizer ({@code tokenizer.bin}/{@code tok512.bin}): a SentencePiece BPE vocabulary exported as
 * (score, bytes) pairs. Encoding follows llama2.c's {@code encode}: a dummy-prefix space, one token per UTF-8 code
 * point (or its bytes as byte-fallback ids {@code b + 3}), then repeatedly merge the adjacent pair whose concatenation
 * is in the vocabulary with the highest score, the leftmost pair winning ties.
 *
 * <p>llama2.c rescans the whole sequence after every merge (quadratic); this does the same merges in the same order
 * with a priority queue ordered by (score desc, position asc), so long documents stay fast.
 */
public final class Llama2cTokenizer implements TextTokenizer {
    public static final int UNK_ID = 0;
    public static final int BOS_ID = 1;
    public static final int EOS_ID = 2;
    /** Byte b is token b + 3 (after unk, bos, eos). */
    public static final int BYTE_OFFSET = 3;

    private final byte[][] pieces;
    private final float[] scores;
    private final int maxTokenLength;
    /** Piece bytes as ISO-8859-1 strings (one char per byte) to id, for merge lookups. */
    private final Map<String, Integer> lookup;
    private final int spaceId;

    private Llama2cTokenizer(byte[][] pieces, float[] scores, int maxTokenLength) {
        this.pieces = pieces;
        this.scores = scores;
        this.maxTokenLength = maxTokenLength;
        this.lookup = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) {
            // llama2.c's str_lookup finds one match; with duplicates the first id is as good as any.
            lookup.putIfAbsent(latin1(pieces[i]), i);
        }
        Integer space = lookup.get(" ");
        this.spaceId = space == null ? -1 : space;
    }

    /** Reads a llama2.c tokenizer file: int32 max_token_length, then per token float32 score, int32 len, bytes. */
    public static Llama2cTokenizer load(Path file, int vocabSize) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "file not found");
        }
        ByteBuffer in = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        try {
            int maxLen = in.getInt();
            byte[][] pieces = new byte[vocabSize][];
            float[] scores = new float[vocabSize];
            for (int i = 0; i < vocabSize; i++) {
                scores[i] = in.getFloat();
                int len = in.getInt();
                if (len < 0 || len > in.remaining()) {
                    throw new FileFormatException(file, "token " + i + " has an invalid length " + len
                            + "; is this a llama2.c tokenizer for a vocabulary of " + vocabSize + "?");
                }
                pieces[i] = new byte[len];
                in.get(pieces[i]);
            }
            return new Llama2cTokenizer(pieces, scores, maxLen);
        } catch (java.nio.BufferUnderflowException e) {
            throw new FileFormatException(file, "ends before " + vocabSize + " tokens were read; the checkpoint's"
                    + " vocabulary size and this tokenizer do not match");
        }
    }

    /** Builds a tokenizer from pieces and scores (tests, and vocabularies from other sources). */
    public static Llama2cTokenizer of(List<byte[]> pieces, float[] scores) {
        int max = 0;
        for (byte[] p : pieces) {
            max = Math.max(max, p.length);
        }
        return new Llama2cTokenizer(pieces.toArray(new byte[0][]), scores.clone(), max);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        List<Integer> initial = new ArrayList<>();
        if (addBos) {
            initial.add(BOS_ID);
        }
        int firstText = initial.size();
        if (!text.isEmpty()) {
            // SentencePiece's add_dummy_prefix: the text starts with a space token.
            if (spaceId >= 0) {
                initial.add(spaceId);
            } else {
                initial.add(' ' + BYTE_OFFSET);
            }
        }
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            byte[] utf8 = text.substring(i, next).getBytes(StandardCharsets.UTF_8);
            Integer id = lookup.get(latin1(utf8));
            if (id != null) {
                initial.add(id);
            } else {
                for (byte b : utf8) {
                    initial.add((b & 0xFF) + BYTE_OFFSET);
                }
            }
            i = next;
        }
        int n = initial.size();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = initial.get(i);
        }
        if (n - firstText < 2) {
            return ids;
        }
        return merge(ids, firstText);
    }

    /** The BPE merge loop over ids[from..], keeping ids[0..from) (BOS) untouched. */
    private int[] merge(int[] ids, int from) {
        int n = ids.length;
        int[] tok = ids.clone();
        int[] prev = new int[n];
        int[] next = new int[n];
        int[] version = new int[n];
        boolean[] alive = new boolean[n];
        for (int i = from; i < n; i++) {
            prev[i] = i - 1 >= from ? i - 1 : -1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
        }
        // Candidate: (score, left position, left version, right position, right version, merged id).
        PriorityQueue<long[]> queue = new PriorityQueue<>((a, b) -> {
            int c = Float.compare(Float.intBitsToFloat((int) b[0]), Float.intBitsToFloat((int) a[0]));
            return c != 0 ? c : Long.compare(a[1], b[1]);
        });
        for (int i = from; i + 1 < n; i++) {
            offer(queue, tok, version, i, i + 1);
        }
        while (!queue.isEmpty()) {
            long[] c = queue.poll();
            int left = (int) c[1];
            int right = (int) c[3];
            if (!alive[left] || !alive[right] || version[left] != (int) c[2] || version[right] != (int) c[4]
                    || next[left] != right) {
                continue; // stale: one side was merged since this pair was queued
            }
            tok[left] = (int) c[5];
            version[left]++;
            alive[right] = false;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, tok, version, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(queue, tok, version, left, next[left]);
            }
        }
        int count = from;
        for (int i = from; i < n; i++) {
            if (alive[i]) {
                count++;
            }
        }
        int[] out = new int[count];
        System.arraycopy(tok, 0, out, 0, from);
        int k = from;
        for (int i = from; i >= 0 && i < n; i = next[i]) {
            out[k++] = tok[i];
        }
        return out;
    }

    private void offer(PriorityQueue<long[]> queue, int[] tok, int[] version, int left, int right) {
        Integer merged = lookup.get(latin1(pieces[tok[left]]) + latin1(pieces[tok[right]]));
        if (merged != null) {
            queue.add(new long[] {Float.floatToIntBits(scores[merged]) & 0xFFFFFFFFL, left, version[left], right,
                    version[right], merged});
        }
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prevId = -1;
        for (int id : ids) {
            if (id == BOS_ID || id == EOS_ID || id == UNK_ID || id < 0 || id >= pieces.length) {
                prevId = id;
                continue;
            }
            byte[] piece = pieces[id];
            int b = byteValue(id);
            if (b >= 0) {
                out.write(b);
            } else {
                int start = prevId == BOS_ID && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
                out.write(piece, start, piece.length - start);
            }
            prevId = id;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(out.toByteArray()))
                    .toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalStateException(e); // unreachable with REPLACE
        }
    }

    /** The byte a byte-fallback token stands for, or -1 when {@code id} is not one. */
    public int byteValue(int id) {
        if (id < BYTE_OFFSET || id >= BYTE_OFFSET + 256 || id >= pieces.length) {
            return -1;
        }
        byte[] p = pieces[id];
        // llama2.c recognises "<0xHH>" by its text, not by its id.
        if (p.length == 6 && p[0] == '<' && p[1] == '0' && p[2] == 'x' && p[5] == '>') {
            return Integer.parseInt(new String(p, 3, 2, StandardCharsets.US_ASCII), 16);
        }
        return -1;
    }

    /** The raw bytes of a token's piece as stored in the file (spaces, not SentencePiece's '▁'). */
    public byte[] pieceBytes(int id) {
        return pieces[id].clone();
    }

    public float score(int id) {
        return scores[id];
    }

    public int maxTokenLength() {
        return maxTokenLength;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bosId() {
        return BOS_ID;
    }

    @Override
    public int eosId() {
        return EOS_ID;
    }

    /** Padding reuses EOS, as the LoKU reference code does (docs/method.md §8.14); padded positions are masked. */
    @Override
    public int padId() {
        return EOS_ID;
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
