package dev.flinkrwkv.operator;

import dev.flinkrwkv.sample.SamplerOptions;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@link RwkvStreams#generate} does with each prompt: how tokens are sampled, at most how many are
 * generated, the stop sequences (token ids; generation ends right after the generated tokens end with one),
 * and the seed from which each key's random generator starts. Immutable and serializable.
 *
 * <p>Stop texts ({@link #stopAtText}) stop on the generated text instead of on ids: a text such as {@code "\n\n"}
 * may be one token or two, or the end of one token and the start of the next, so generation ends after the
 * first token whose bytes complete an occurrence of it. They need the operator's tokenizer.
 */
@PublicEvolving
public final class GenerateOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    private final SamplerOptions sampler;
    private final int maxNewTokens;
    private final List<int[]> stopSequences;
    private final List<byte[]> stopTexts;
    private final long seed;

    private GenerateOptions(SamplerOptions sampler, int maxNewTokens, List<int[]> stopSequences, List<byte[]> stopTexts,
                            long seed) {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
        }
        for (int[] s : stopSequences) {
            if (s.length == 0) {
                throw new IllegalArgumentException("a stop sequence must not be empty");
            }
        }
        this.sampler = sampler;
        this.maxNewTokens = maxNewTokens;
        this.stopSequences = stopSequences;
        this.stopTexts = stopTexts;
        this.seed = seed;
    }

    /** Greedy, 64 new tokens, no stop sequence, seed 0. */
    public static GenerateOptions defaults() {
        return new GenerateOptions(SamplerOptions.greedy(), 64, List.of(), List.of(), 0);
    }

    public GenerateOptions sampler(SamplerOptions s) {
        return new GenerateOptions(s, maxNewTokens, stopSequences, stopTexts, seed);
    }

    public GenerateOptions maxNewTokens(int n) {
        return new GenerateOptions(sampler, n, stopSequences, stopTexts, seed);
    }

    /** Adds a stop sequence (token ids). */
    public GenerateOptions stopAt(int... tokens) {
        List<int[]> s = new ArrayList<>(stopSequences);
        s.add(tokens.clone());
        return new GenerateOptions(sampler, maxNewTokens, List.copyOf(s), stopTexts, seed);
    }

    /** Adds a stop text: generation ends after the token that completes an occurrence of it in the generated text. */
    public GenerateOptions stopAtText(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("a stop text must not be empty");
        }
        List<byte[]> s = new ArrayList<>(stopTexts);
        s.add(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return new GenerateOptions(sampler, maxNewTokens, stopSequences, List.copyOf(s), seed);
    }

    /** The job-wide seed; a key's generator starts from a hash of it and the key. */
    public GenerateOptions seed(long seed) {
        return new GenerateOptions(sampler, maxNewTokens, stopSequences, stopTexts, seed);
    }

    public SamplerOptions sampler() {
        return sampler;
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    public List<int[]> stopSequences() {
        return stopSequences;
    }

    /** The stop texts, as UTF-8 bytes. */
    public List<byte[]> stopTexts() {
        return stopTexts;
    }

    /**
     * Where the generated text {@code bytes} first contains a stop text (the index of its first byte), or -1: the
     * text shown to a user ends there.
     */
    public int stopTextAt(byte[] bytes) {
        int first = -1;
        for (byte[] s : stopTexts) {
            int at = StopTexts.indexOf(bytes, bytes.length, s, 0);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    public long seed() {
        return seed;
    }

    /** The length of the stop sequence that {@code tokens[0..n)} ends with, or 0. */
    public int stopLength(int[] tokens, int n) {
        for (int[] s : stopSequences) {
            if (s.length <= n && Arrays.equals(tokens, n - s.length, n, s, 0, s.length)) {
                return s.length;
            }
        }
        return 0;
    }

    @Override
    public String toString() {
        return sampler + ", at most " + maxNewTokens + " tokens, " + stopSequences.size() + " stop sequences, "
                + stopTexts.size() + " stop texts, seed "
                + seed;
    }
}
