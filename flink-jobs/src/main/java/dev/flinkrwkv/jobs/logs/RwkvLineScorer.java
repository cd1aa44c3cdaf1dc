package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

import dev.flinkrwkv.jobs.format.TextFraming;
import dev.flinkrwkv.tokenize.Tokenizer;
import dev.flinkrwkv.tokenize.Tokenizers;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * The RWKV scorer for offline evaluation: the lines of a key are one stream ({@code line \n line \n ...}) fed
 * through one RWKV state, so each token's surprisal is conditioned on the key's whole history. A line's tokens
 * are its tokenizer's tokens (its bytes for a byte-level model); the {@code \n} after it is fed (so the next
 * line is predicted as a new line) but not scored. This drives the engine directly, one key at a time; the streaming job does the
 * same through the keyed operator, batched across keys ({@code scorelogs.ScoreLogsJob}: the same bytes fed in the same
 * order, the same single-precision log-probabilities), so both give a line the same score.
 */
public final class RwkvLineScorer implements LineScorer {
    private final RwkvModel model;
    private final Tokenizer tokenizer;

    /** With the model's tokenizer ({@link Tokenizers#forVocabulary}). */
    public RwkvLineScorer(RwkvModel model) {
        this(model, Tokenizers.forVocabulary(model.vocab()));
    }

    /** @throws IllegalArgumentException in one line if the tokenizer gives ids the model lacks */
    public RwkvLineScorer(RwkvModel model, Tokenizer tokenizer) {
        Tokenizers.checkFits(tokenizer, model.vocab());
        this.model = model;
        this.tokenizer = tokenizer;
    }

    @Override
    public String name() {
        return "rwkv";
    }

    @Override
    public LineSurprisal[] score(List<byte[]> lines, IntConsumer progress) {
        TokenScores scores = tokenScores(lines, progress);
        LineSurprisal[] out = new LineSurprisal[lines.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = LineStatistic.MEAN.of(scores.logProbs()[i], scores.bodyStart()[i]);
        }
        return out;
    }

    /**
     * Each line's per-token log-probabilities (nats), and the index of its message's first token
     * ({@link MessageBody}), for any {@link LineStatistic}.
     */
    public record TokenScores(float[][] logProbs, int[] bodyStart) {}

    /** The same pass as {@link #score}, keeping every token's log-probability. */
    public TokenScores tokenScores(List<byte[]> lines, IntConsumer progress) {
        RwkvEvaluator ev = model.newEvaluator();
        RwkvState state = model.initialState();
        float[] logits = new float[model.vocab()];
        int newline = TextFraming.lineBreak(tokenizer);
        ev.step(state, newline, logits);   // the stream starts as if after a line end
        float[][] logProbs = new float[lines.size()][];
        int[] bodyStart = new int[lines.size()];
        for (int i = 0; i < logProbs.length; i++) {
            byte[] text = lines.get(i);
            int[] line = tokenizer.encode(text);
            float[] lp = new float[line.length];
            for (int t = 0; t < line.length; t++) {
                int token = line[t];
                // as the keyed operator computes and stores it, so that both paths give the same scores
                lp[t] = (float) LogProbs.of(logits, 0, logits.length, token);
                ev.step(state, token, logits);
            }
            ev.step(state, newline, logits);
            logProbs[i] = lp;
            bodyStart[i] = MessageBody.startToken(tokenizer, text, line);
            progress.accept(i + 1);
        }
        return new TokenScores(logProbs, bodyStart);
    }
}
