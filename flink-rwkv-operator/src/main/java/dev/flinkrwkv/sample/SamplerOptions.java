package dev.flinkrwkv.sample;

import java.io.Serializable;

/**
 * How the next token is chosen from logits: {@link #greedy()} takes the most likely token; otherwise the
 * logits are divided by the temperature and a token is drawn from their softmax, restricted to the
 * {@code topK} most likely tokens (0: no limit) and then to the smallest most-likely-first prefix whose
 * probability reaches {@code topP} (1: no limit; nucleus sampling). Immutable.
 *
 * @param temperature 0 for greedy, else positive
 * @param topK        0 for all tokens, else at least 1
 * @param topP        in (0, 1]
 */
public record SamplerOptions(double temperature, int topK, double topP) implements Serializable {
    public SamplerOptions {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be 0 (greedy) or positive, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be 0 (no limit) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
    }

    /** Always the most likely token (lowest id on ties). */
    public static SamplerOptions greedy() {
        return new SamplerOptions(0, 0, 1);
    }

    /** Plain sampling from the softmax at {@code temperature}. */
    public static SamplerOptions temperature(double temperature) {
        return new SamplerOptions(temperature, 0, 1);
    }

    public SamplerOptions withTopK(int k) {
        return new SamplerOptions(temperature, k, topP);
    }

    public SamplerOptions withTopP(double p) {
        return new SamplerOptions(temperature, topK, p);
    }

    public boolean isGreedy() {
        return temperature == 0 || topK == 1;
    }

    @Override
    public String toString() {
        return isGreedy() ? "greedy" : "temperature " + temperature + (topK > 0 ? ", top-k " + topK : "")
                + (topP < 1 ? ", top-p " + topP : "");
    }
}
