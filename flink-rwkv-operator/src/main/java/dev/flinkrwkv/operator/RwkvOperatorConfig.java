package dev.flinkrwkv.operator;

import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.state.StatePrecision;
import dev.flinkrwkv.tokenize.Tokenizer;
import dev.flinkrwkv.tokenize.Tokenizers;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Everything the keyed RWKV operator needs: the model, how a record gives its tokens, what to emit, batch
 * and memory limits, and the state options. Immutable and serializable; made with {@link #builder()}:
 * <pre>{@code
 * RwkvOperatorConfig<LogLine> cfg = RwkvOperatorConfig.<LogLine>builder()
 *         .model("/models/rwkv7-0.1B.bin")
 *         .text(LogLine::message)            // the model's tokenizer; .tokenizer(...) to name one, .tokens(...) for ids
 *         .tag(LogLine::id)
 *         .emit(ScoreOutput.TOP_K).topK(5)
 *         .maxBatchSize(64).maxBatchDelay(Duration.ofMillis(20))
 *         .device(Device.AUTO)                // the GPU when there is one (the default), else the CPU
 *         .idleStateTtl(Duration.ofDays(7))
 *         .build();
 * DataStream<RwkvResult> scores = RwkvStreams.score(lines.keyBy(LogLine::host), cfg);
 * }</pre>
 */
@PublicEvolving
public final class RwkvOperatorConfig<IN> implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String modelPath;
    private final RecordTokens<IN> tokens;
    private final RecordField<IN> text;
    private final Tokenizer tokenizer;
    private final RecordField<IN> tag;
    private final Set<ScoreOutput> outputs;
    private final int topK;
    private final int maxBatchSize;
    private final int evaluatorThreads;
    private final int maxBatchTokens;
    private final Device device;
    private final Duration maxBatchDelay;
    private final long maxResidentBytes;
    private final StatePrecision statePrecision;
    private final Duration idleStateTtl;
    private final boolean resetStatesOnModelChange;
    private final int startToken;
    private final GenerateOptions generate;

    private RwkvOperatorConfig(Builder<IN> b) {
        this.modelPath = b.modelPath;
        this.tokens = b.tokens;
        this.text = b.text;
        this.tokenizer = b.tokenizer;
        this.tag = b.tag;
        this.outputs = b.outputs.isEmpty() ? EnumSet.noneOf(ScoreOutput.class) : EnumSet.copyOf(b.outputs);
        this.topK = b.topK;
        this.maxBatchSize = b.maxBatchSize;
        this.evaluatorThreads = b.evaluatorThreads;
        this.maxBatchTokens = b.maxBatchTokens;
        this.device = b.device;
        this.maxBatchDelay = b.maxBatchDelay;
        this.maxResidentBytes = b.maxResidentBytes;
        this.statePrecision = b.statePrecision;
        this.idleStateTtl = b.idleStateTtl;
        this.resetStatesOnModelChange = b.resetStatesOnModelChange;
        this.startToken = b.startToken;
        this.generate = b.generate;
    }

    public static <IN> Builder<IN> builder() {
        return new Builder<>();
    }

    public String modelPath() {
        return modelPath;
    }

    /** How records give their token ids, when they carry ids ({@link Builder#tokens}); null when they carry text. */
    public RecordTokens<IN> tokens() {
        return tokens;
    }

    /** The text field, when records carry text ({@link Builder#text}); null when they carry ids. */
    public RecordField<IN> text() {
        return text;
    }

    /** The tokenizer named with {@link Builder#tokenizer}, or null: the model's ({@link #tokenizerFor}). */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * The tokenizer used with a model of vocabulary {@code modelVocab}: the one named, else the one known for that
     * vocabulary ({@link Tokenizers#forVocabulary}).
     *
     * @throws IllegalArgumentException in one line, when the named tokenizer gives ids the model does not have,
     *                                  or none is named and none is known for the vocabulary
     */
    public Tokenizer tokenizerFor(int modelVocab) {
        Tokenizer t = tokenizer != null ? tokenizer : Tokenizers.forVocabulary(modelVocab);
        Tokenizers.checkFits(t, modelVocab);
        return t;
    }

    /** The tag function, or null. */
    public RecordField<IN> tag() {
        return tag;
    }

    public boolean emits(ScoreOutput o) {
        return outputs.contains(o);
    }

    /** Whether any output needs the next-token distribution after a record. */
    public boolean needsNextToken() {
        return emits(ScoreOutput.TOP_K) || emits(ScoreOutput.LAST_LOGITS);
    }

    public int topK() {
        return topK;
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    public Duration maxBatchDelay() {
        return maxBatchDelay;
    }

    /** Threads each operator instance's evaluator splits a batched step over (default 1). */
    public int evaluatorThreads() {
        return evaluatorThreads;
    }

    /** The most tokens (of all keys of a batch together) one pass over the weights evaluates (default 256). */
    public int maxBatchTokens() {
        return maxBatchTokens;
    }

    /** Where each operator instance evaluates its batches (default {@link Device#AUTO}). */
    public Device device() {
        return device;
    }

    public long maxResidentBytes() {
        return maxResidentBytes;
    }

    public StatePrecision statePrecision() {
        return statePrecision;
    }

    /** Idle time after which a key starts afresh, or null for never. */
    public Duration idleStateTtl() {
        return idleStateTtl;
    }

    public boolean resetStatesOnModelChange() {
        return resetStatesOnModelChange;
    }

    public int startToken() {
        return startToken;
    }

    /** What to generate after each record, or null when scoring. */
    public GenerateOptions generate() {
        return generate;
    }

    /** Builds a {@link RwkvOperatorConfig}; {@link #model} and one of {@link #tokens}/{@link #text} are required. */
    @PublicEvolving
    public static final class Builder<IN> {
        private String modelPath;
        private RecordTokens<IN> tokens;
        private RecordField<IN> text;
        private Tokenizer tokenizer;
        private RecordField<IN> tag;
        private final Set<ScoreOutput> outputs = EnumSet.noneOf(ScoreOutput.class);
        private int topK = 5;
        private int maxBatchSize = 64;
        private int evaluatorThreads = 1;
        private int maxBatchTokens = RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS;
        private Device device = Device.AUTO;
        private Duration maxBatchDelay = Duration.ofMillis(50);
        private long maxResidentBytes = 256L << 20;
        private StatePrecision statePrecision = StatePrecision.FLOAT32;
        private Duration idleStateTtl;
        private boolean resetStatesOnModelChange;
        private int startToken;
        private GenerateOptions generate;

        private Builder() {}

        /** The rwkv.cpp model file; every task manager must be able to read it at this path. */
        public Builder<IN> model(String path) {
            this.modelPath = Objects.requireNonNull(path, "model path");
            return this;
        }

        /** Records carry token ids. */
        public Builder<IN> tokens(RecordTokens<IN> tokens) {
            this.tokens = Objects.requireNonNull(tokens, "tokens");
            this.text = null;
            return this;
        }

        /**
         * Records carry text, tokenized by the {@link #tokenizer} named, or by default by the model's own: the one
         * {@link Tokenizers#forVocabulary} knows for the model's vocabulary (World for 65536, 20B for 50277 and
         * 50304, bytes for 256), chosen when the operator opens.
         */
        public Builder<IN> text(RecordField<IN> text) {
            this.text = Objects.requireNonNull(text, "text");
            this.tokens = null;
            return this;
        }

        /** Records carry text, tokenized by {@code tokenizer}: {@code text(text).tokenizer(tokenizer)}. */
        public Builder<IN> text(RecordField<IN> text, Tokenizer tokenizer) {
            return text(text).tokenizer(tokenizer);
        }

        /**
         * The tokenizer for text records and for decoding generated text (default: the model's, see
         * {@link #text(RecordField)}). When the operator opens it fails, in one line naming both sizes, if the
         * tokenizer gives ids the model does not have. A model padded beyond its tokenizer (50304 for the 20B
         * tokenizer's 50277) generates only ids of the tokenizer.
         */
        public Builder<IN> tokenizer(Tokenizer tokenizer) {
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
            return this;
        }

        /** Copies a field of each record into its result's tag (an id, say). */
        public Builder<IN> tag(RecordField<IN> tag) {
            this.tag = tag;
            return this;
        }

        /** Adds optional outputs (the mean surprisal is always emitted). */
        public Builder<IN> emit(ScoreOutput... what) {
            for (ScoreOutput o : what) {
                outputs.add(Objects.requireNonNull(o));
            }
            return this;
        }

        /** k for {@link ScoreOutput#TOP_K} (default 5). */
        public Builder<IN> topK(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("top-k must be at least 1, got " + k);
            }
            this.topK = k;
            return this;
        }

        /** Records buffered before they are evaluated together (default 64). */
        public Builder<IN> maxBatchSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + n);
            }
            this.maxBatchSize = n;
            return this;
        }

        /**
         * Threads each operator instance's evaluator uses for a batched step (default 1): the matrix rows and
         * the per-key work are split over them, and the weights are still read once per step for the whole
         * batch, whereas N parallel operator instances each read them. Results are the same bits whatever
         * the count. The extra threads are started when the operator opens and stopped when it closes.
         */
        public Builder<IN> evaluatorThreads(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("evaluator threads must be at least 1, got " + n);
            }
            this.evaluatorThreads = n;
            return this;
        }

        /**
         * The most tokens one pass over the weights evaluates (default
         * {@value RwkvEvaluator#DEFAULT_MAX_BATCH_TOKENS}): a batch's records are grouped per key and all their
         * tokens evaluated together, in passes of at most this many; the evaluator's scratch memory grows with
         * it (about 30 x the embedding size floats per token). Longer batches and records take several passes,
         * with the same results.
         */
        public Builder<IN> maxBatchTokens(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("max batch tokens must be at least 1, got " + n);
            }
            this.maxBatchTokens = n;
            return this;
        }

        /**
         * Where each operator instance evaluates its batches (default {@link Device#AUTO}): {@code AUTO} takes the
         * task manager's GPU when it has a CUDA driver and a device, else the CPU, logging one line with the
         * reason; {@code CUDA} fails the operator's start in one line where there is none; {@code CPU} never
         * touches the GPU (nor loads JCuda). Results on the GPU agree with the CPU's within float rounding
         * (docs/operator.md, "GPU"); keyed state is the same either way, so a job may move between them.
         */
        public Builder<IN> device(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /** The longest a record waits in the buffer (default 50 ms). */
        public Builder<IN> maxBatchDelay(Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("batch delay must not be negative, got " + d);
            }
            this.maxBatchDelay = d;
            return this;
        }

        /**
         * Bytes of key states kept in memory between batches (default 256 MiB); the least recently used are
         * written to keyed state and dropped beyond it. 0 writes every state back after each batch.
         */
        public Builder<IN> maxResidentBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("resident bytes must not be negative, got " + bytes);
            }
            this.maxResidentBytes = bytes;
            return this;
        }

        /** How states are stored in keyed state (default {@link StatePrecision#FLOAT32}). */
        public Builder<IN> statePrecision(StatePrecision p) {
            this.statePrecision = Objects.requireNonNull(p);
            return this;
        }

        /** A key idle this long (processing time) starts again from the initial state (default: never). */
        public Builder<IN> idleStateTtl(Duration ttl) {
            if (ttl != null && (ttl.isNegative() || ttl.isZero())) {
                throw new IllegalArgumentException("idle state TTL must be positive, got " + ttl);
            }
            this.idleStateTtl = ttl;
            return this;
        }

        /**
         * On restore from a checkpoint taken with another model: start its keys afresh instead of failing
         * (default false: fail, naming both models).
         */
        public Builder<IN> resetStatesOnModelChange(boolean reset) {
            this.resetStatesOnModelChange = reset;
            return this;
        }

        /** The token a new key's history starts with (default 0, the end-of-text token). */
        public Builder<IN> startToken(int token) {
            if (token < 0) {
                throw new IllegalArgumentException("start token must not be negative, got " + token);
            }
            this.startToken = token;
            return this;
        }

        /**
         * Generate a continuation after each record (a prompt) instead of only scoring it; used by
         * {@link RwkvStreams#generate}. Score outputs ({@link #emit}) do not apply then.
         */
        public Builder<IN> generate(GenerateOptions options) {
            this.generate = Objects.requireNonNull(options, "generate options");
            return this;
        }

        public RwkvOperatorConfig<IN> build() {
            if (modelPath == null) {
                throw new IllegalStateException("no model: call model(path)");
            }
            if (tokens == null && text == null) {
                throw new IllegalStateException("no tokens: call tokens(...) or text(...)");
            }
            return new RwkvOperatorConfig<>(this);
        }
    }
}
