package dev.flinkrwkv.jobs.logs;

import dev.flinkrwkv.backend.Backend;
import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

import dev.flinkrwkv.jobs.format.TextFraming;
import dev.flinkrwkv.tokenize.Tokenizer;
import dev.flinkrwkv.tokenize.Tokenizers;

import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The RWKV scorer for offline evaluation: the lines of a key are one stream ({@code line \n line \n ...}) fed
 * through one RWKV state, so each token's surprisal is conditioned on the key's whole history. A line's tokens
 * are its tokenizer's tokens (its bytes for a byte-level model); the {@code \n} after it is fed (so the next
 * line is predicted as a new line) but not scored. This drives the engine directly, one key at a time; the streaming job does the
 * same through the keyed operator, batched across keys ({@code scorelogs.ScoreLogsJob}: the same bytes fed in the same
 * order, the same single-precision log-probabilities), so both give a line the same score on the same device.
 * Each line and its {@code \n} go to the backend as one run in sequence mode, the logits after every token back.
 */
public final class RwkvLineScorer implements LineScorer {
    private final RwkvModel model;
    private final Tokenizer tokenizer;
    private final Device device;
    private LineNormalizer normalizer = LineNormalizer.NONE;
    /** Further models whose token log-probabilities are averaged with the first's (an ensemble); none by default. */
    private List<RwkvModel> others = List.of();

    /** With the model's tokenizer ({@link Tokenizers#forVocabulary}). */
    public RwkvLineScorer(RwkvModel model) {
        this(model, Tokenizers.forVocabulary(model.vocab()));
    }

    /** On the CPU. @throws IllegalArgumentException in one line if the tokenizer gives ids the model lacks */
    public RwkvLineScorer(RwkvModel model, Tokenizer tokenizer) {
        this(model, tokenizer, Device.CPU);
    }

    /** @throws IllegalArgumentException in one line if the tokenizer gives ids the model lacks */
    public RwkvLineScorer(RwkvModel model, Tokenizer tokenizer, Device device) {
        Tokenizers.checkFits(tokenizer, model.vocab());
        this.model = model;
        this.tokenizer = tokenizer;
        this.device = device;
    }

    /** Each line goes through {@code n} before it is tokenized (what the model was fitted to: {@link FitInfo#normalize}). */
    public RwkvLineScorer withNormalizer(LineNormalizer n) {
        this.normalizer = n;
        return this;
    }

    /**
     * Scores with the mean of each token's log-probability over {@code more} and the first model: models fitted
     * to the same lines from other seeds disagree most where the lines are new to all of them, and their mean
     * is less the accident of one fit. @throws IllegalArgumentException if a model's vocabulary differs
     */
    public RwkvLineScorer withEnsemble(List<RwkvModel> more) {
        for (RwkvModel m : more) {
            if (m.vocab() != model.vocab()) {
                throw new IllegalArgumentException("an ensemble's models must share their vocabulary: "
                        + m.vocab() + " against " + model.vocab());
            }
        }
        this.others = List.copyOf(more);
        return this;
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

    /** The same pass as {@link #score}, keeping every token's log-probability (the ensemble's mean, if any). */
    public TokenScores tokenScores(List<byte[]> lines, IntConsumer progress) {
        return mean(memberTokenScores(lines, progress));
    }

    /** Each model's own token scores: the first model's, then the ensemble's in order. */
    public List<TokenScores> memberTokenScores(List<byte[]> lines, IntConsumer progress) {
        List<TokenScores> all = new java.util.ArrayList<>(1 + others.size());
        all.add(tokenScores(model, lines, progress));
        for (RwkvModel m : others) {
            all.add(tokenScores(m, lines, n -> { }));
        }
        return all;
    }

    /** The mean of each token's log-probability over {@code members} (scores of the same lines); one member as it is. */
    public static TokenScores mean(List<TokenScores> members) {
        TokenScores first = members.get(0);
        if (members.size() == 1) {
            return first;
        }
        float[][] mean = new float[first.logProbs().length][];
        List<float[]> line = new java.util.ArrayList<>(members.size());
        for (int i = 0; i < mean.length; i++) {
            line.clear();
            for (TokenScores m : members) {
                line.add(m.logProbs()[i]);
            }
            mean[i] = meanLine(line);
        }
        return new TokenScores(mean, first.bodyStart());
    }

    /**
     * One line's token log-probabilities under several models (the same tokens), averaged: summed in the
     * order given, then divided by their number.
     */
    public static float[] meanLine(List<float[]> members) {
        float[] mean = members.get(0).clone();
        for (float[] lp : members.subList(1, members.size())) {
            for (int t = 0; t < mean.length; t++) {
                mean[t] += lp[t];
            }
        }
        float models = members.size();
        for (int t = 0; t < mean.length; t++) {
            mean[t] /= models;
        }
        return mean;
    }

    private TokenScores tokenScores(RwkvModel model, List<byte[]> lines, IntConsumer progress) {
        int vocab = model.vocab();
        RwkvState state = model.initialState();
        int newline = TextFraming.lineBreak(tokenizer);
        float[] prev = new float[vocab]; // the logits after the last token fed
        float[] logits = new float[0];
        float[][] logProbs = new float[lines.size()][];
        int[] bodyStart = new int[lines.size()];
        try (Backend backend = Backends.open(device, model)) {
            backend.stepSequence(state, new int[] {newline}, 0, 1, prev); // the stream starts as if after a line end
            for (int i = 0; i < logProbs.length; i++) {
                byte[] text = normalizer.apply(lines.get(i));
                int[] line = tokenizer.encode(text);
                int n = line.length;
                int[] run = Arrays.copyOf(line, n + 1);
                run[n] = newline;
                if (logits.length < (n + 1) * vocab) {
                    logits = new float[(n + 1) * vocab];
                }
                backend.stepSequence(state, run, 0, n + 1, logits);
                float[] lp = new float[n];
                for (int t = 0; t < n; t++) {
                    // as the keyed operator computes and stores it, so that both paths give the same scores
                    lp[t] = (float) (t == 0 ? LogProbs.of(prev, 0, vocab, line[0])
                            : LogProbs.of(logits, (t - 1) * vocab, vocab, line[t]));
                }
                System.arraycopy(logits, n * vocab, prev, 0, vocab);
                logProbs[i] = lp;
                bodyStart[i] = MessageBody.startToken(tokenizer, text, line);
                progress.accept(i + 1);
            }
        }
        return new TokenScores(logProbs, bodyStart);
    }
}
