package dev.flinkrwkv.operator;

import dev.flinkrwkv.math.MatMulKernel;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.sample.SplitMix64;
import dev.flinkrwkv.state.KeyState;
import dev.flinkrwkv.state.RwkvStateSerializer;
import dev.flinkrwkv.tokenize.Tokenizer;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The keyed RWKV operator: each key's recurrent model state lives in Flink keyed state (RocksDB in
 * production), records are scored in batches across keys, and checkpoints recover exactly.
 *
 * <h2>Why it is built this way</h2>
 * Moving states costs more than the model: a 0.1B RWKV-7 state is 2.4 MB, and reading and writing it from
 * RocksDB for each token would cost far more than the token's model step. So the operator
 * <ol>
 *   <li><b>buffers</b> records across keys, up to {@code maxBatchSize} records or {@code maxBatchDelay}
 *       (a processing-time timer), then</li>
 *   <li><b>evaluates the batch</b> with {@link RaggedScorer}: a key's buffered records are concatenated in
 *       arrival order and all keys' tokens evaluated in one ragged pass (passes of at most
 *       {@code maxBatchTokens} tokens), so every projection reads the weights once for all the batch's tokens
 *       whatever the keys (one busy key runs at sequence-mode speed), while each key's tokens go through its
 *       state in order;</li>
 *   <li>keeps the states of recently active keys <b>resident</b> in memory ({@link ResidentStates}, bounded
 *       in bytes by {@code maxResidentBytes}; the least recently used are written to keyed state and
 *       dropped), so an active key touches RocksDB once per checkpoint interval, not once per token.</li>
 * </ol>
 *
 * <h2>The checkpoint contract</h2>
 * <ul>
 *   <li>Before each barrier ({@link #prepareSnapshotPreBarrier}) the operator evaluates every buffered
 *       record, emits its results, and writes every changed resident state to keyed state. Nothing buffered
 *       and nothing resident is missing from a checkpoint, and no buffered record needs operator state of
 *       its own: a key's stored state is exactly the state after the records whose results were emitted
 *       before the barrier. The same happens at end of input ({@link #finish}); a watermark that arrives
 *       while records are buffered is held until they are flushed, so results are never late relative to
 *       a forwarded watermark.</li>
 *   <li>Results are a pure function of (model, the key's records in order, options): a batch row does not
 *       depend on the other rows, and 16-bit state storage is applied to resident states too. A replay after
 *       a failure therefore emits the same results, and an exactly-once sink shows them once.</li>
 *   <li>The stored state is tagged with the model's fingerprint by its serializer's snapshot
 *       ({@link RwkvStateSerializer}): restoring with another model fails naming both, unless reset is
 *       enabled, in which case the old states become initial states.</li>
 * </ul>
 *
 * <h2>Keyed state outside processElement</h2>
 * Keyed state is scoped to the backend's current key. A batch is evaluated when it fills (inside
 * {@code processElement} of some other key), on a timer, before a barrier, or at the end; so every read and
 * write of a key's state first calls {@link #setCurrentKey} for that key, and the key that was current is
 * restored afterwards (the state backend has no other per-key context).
 *
 * <h2>Idle keys</h2>
 * With {@code idleStateTtl}, keyed state gets a processing-time TTL renewed on each write, and a resident
 * state unused for that long is dropped; the key starts again from the initial state. Since states are
 * written at most once per checkpoint interval, a key expires between TTL and TTL plus one interval after
 * its last record. Expiry follows wall-clock time, so unlike everything else it is not replay-exact.
 *
 * <h2>Generation</h2>
 * With {@link RwkvOperatorConfig#generate()} set ({@link RwkvStreams#generate}) the batch is evaluated by
 * {@link RaggedGenerator} instead, and each key also has a random generator state, a {@code long} in a
 * value state of its own ({@code rwkv-rng}), read and written with the key's model state (so it is in the
 * same checkpoints) and starting from a hash of the seed and the key. Keeping it apart from the model
 * state leaves the scoring operator's state, serializer and savepoints exactly as they were.
 */
@Internal
public class RwkvOperator<IN> extends AbstractStreamOperator<RwkvResult>
        implements OneInputStreamOperator<IN, RwkvResult> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RwkvOperator.class);

    private final RwkvOperatorConfig<IN> config;

    private transient RwkvModel model;
    /** The tokenizer of text records and generated text; null when records carry ids and none is needed. */
    private transient Tokenizer tokenizer;
    private transient LaneEvaluator evaluator;
    private transient ValueState<KeyState> stored;
    /** The keys' random generator states; only when generating. */
    private transient ValueState<Long> storedRng;
    private transient RwkvStateSerializer serializer;
    private transient ResidentStates resident;
    private transient LinkedHashMap<Object, Lane> buffer;
    private transient int buffered;
    private transient long bufferedTokens;
    private transient long bufferSince;
    private transient boolean timerArmed;
    private transient boolean copyOnAccess;
    private transient OperatorMetrics metrics;
    private transient StreamRecord<RwkvResult> reuse;
    private transient Watermark heldWatermark;

    public RwkvOperator(RwkvOperatorConfig<IN> config) {
        this.config = config;
    }

    @Override
    public void open() throws Exception {
        super.open();
        // one model per file per task manager, shared with this operator's other subtasks there
        model = SharedModels.acquire(Path.of(config.modelPath()));
        boolean stopTexts = config.generate() != null && !config.generate().stopTexts().isEmpty();
        if (config.text() != null || config.tokenizer() != null || stopTexts) {
            try {
                tokenizer = config.tokenizerFor(model.vocab());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("model " + config.modelPath() + ": " + e.getMessage(), e);
            }
        }
        if (config.startToken() >= model.vocab()) {
            throw new IllegalArgumentException("start token " + config.startToken() + " outside the vocabulary of "
                    + config.modelPath() + " (" + model.vocab() + ")");
        }
        String layout = "RWKV " + model.version() + ", " + model.layers() + " layers x " + model.embed() + ", "
                + model.stateSize() + " state floats";
        serializer = new RwkvStateSerializer(model.file().fingerprint(), layout, model.stateSize(),
                config.statePrecision(), config.startToken(), config.resetStatesOnModelChange());
        stored = getPartitionedState(withTtl(new ValueStateDescriptor<>("rwkv-state", serializer)));
        if (config.generate() != null) {
            for (int[] stop : config.generate().stopSequences()) {
                checkVocabulary(stop, "stop sequence " + java.util.Arrays.toString(stop));
            }
            storedRng = getPartitionedState(withTtl(new ValueStateDescriptor<>("rwkv-rng", Long.class)));
        }
        // RocksDB (de)serializes on every access; the heap backend hands out its own objects, which the
        // operator then must not change in place
        copyOnAccess = !getKeyedStateBackend().isSafeToReuseKVState();
        evaluator = config.generate() != null ? new RaggedGenerator(model, config, tokenizer) : new RaggedScorer(model, config, tokenizer);
        resident = new ResidentStates(4L * model.stateSize() + 64);
        buffer = new LinkedHashMap<>();
        reuse = new StreamRecord<>(null);
        metrics = new OperatorMetrics(getMetricGroup(), () -> resident.size(), () -> resident.bytes());
        // Through SLF4J, so that the line lands in the TaskManager's log beside Flink's own; the engine's
        // System.Logger would go to java.util.logging's console there, the TaskManager's .out file.
        LOG.info("{}: model {} ({}), device {}, matrix kernel {}", getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks(),
                config.modelPath(), layout, evaluator.device(), MatMulKernel.get().name());
    }

    private <T> ValueStateDescriptor<T> withTtl(ValueStateDescriptor<T> desc) {
        if (config.idleStateTtl() != null) {
            desc.enableTimeToLive(StateTtlConfig.newBuilder(config.idleStateTtl())
                    .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .build());
        }
        return desc;
    }

    @Override
    public void processElement(StreamRecord<IN> element) throws Exception {
        Object key = getCurrentKey();
        IN value = element.getValue();
        int[] tokens = config.text() != null ? tokenizer.encode(config.text().get(value)) : config.tokens().tokens(value);
        String tag = config.tag() != null ? config.tag().get(value) : null;
        checkTokens(tokens, key, tag);
        long ts = element.hasTimestamp() ? element.getTimestamp() : PendingRecord.NO_TIMESTAMP;
        buffer.computeIfAbsent(key, Lane::new).records.add(new PendingRecord(key, tokens, tag, ts));
        bufferedTokens += tokens.length;
        if (buffered++ == 0) {
            bufferSince = now();
            armTimer(bufferSince + config.maxBatchDelay().toMillis());
        }
        if (buffered >= config.maxBatchSize() || config.maxBatchDelay().isZero()) {
            flush();
        }
    }

    private void checkTokens(int[] tokens, Object key, String tag) {
        checkVocabulary(tokens, "record of key " + key + " (tag " + tag + ")");
    }

    private void checkVocabulary(int[] tokens, String what) {
        if (tokens == null) {
            throw new IllegalArgumentException(what + " has no tokens (null)");
        }
        for (int t : tokens) {
            if (t < 0 || t >= model.vocab()) {
                throw new IllegalArgumentException(what + " has token " + t
                        + ", outside the vocabulary [0, " + model.vocab() + ") of " + config.modelPath());
            }
        }
    }

    private void armTimer(long at) {
        if (!timerArmed && !config.maxBatchDelay().isZero()) {
            timerArmed = true;
            getProcessingTimeService().registerTimer(at, this::onTimer);
        }
    }

    private void onTimer(long time) throws Exception {
        timerArmed = false;
        if (buffered == 0) {
            return;
        }
        long due = bufferSince + config.maxBatchDelay().toMillis();
        if (time >= due) {
            flush();
        } else {
            armTimer(due); // the batch that armed this timer was flushed; a newer one is waiting
        }
    }

    /**
     * A watermark that arrives while records are buffered is held until they are flushed (at the latest
     * after {@code maxBatchDelay}), so results are never late relative to a forwarded watermark, and frequent
     * watermarks do not cut batches short.
     */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (buffered == 0) {
            super.processWatermark(mark);
        } else {
            heldWatermark = mark;
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        metrics.checkpoint(withKeyRestored(() -> resident.writeBackDirty(this::write)));
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        flush();
        metrics.wroteBack(withKeyRestored(() -> resident.writeBackDirty(this::write)));
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (evaluator != null) {
                evaluator.close();
            }
        } finally {
            if (model != null) {
                SharedModels.release(model);
                model = null;
            }
            super.close();
        }
    }

    /** Evaluates every buffered record, emits the results, then trims the resident states to their bound. */
    private void flush() throws Exception {
        if (buffered == 0) {
            return;
        }
        List<Lane> lanes = new ArrayList<>(buffer.values());
        int records = buffered;
        long tokens = bufferedTokens;
        buffer.clear();
        buffered = 0;
        bufferedTokens = 0;
        withKeyRestored(() -> {
            long time = now();
            for (Lane lane : lanes) {
                lane.attach(residentState(lane.key, time));
            }
            long t0 = System.nanoTime();
            evaluator.evaluate(lanes, this::emit);
            metrics.batch(records, tokens, System.nanoTime() - t0);
            int before = resident.size();
            int written = resident.evictBeyond(config.maxResidentBytes(), this::write);
            metrics.evicted(before - resident.size(), written);
            return 0;
        });
        if (heldWatermark != null) {
            Watermark w = heldWatermark;
            heldWatermark = null;
            super.processWatermark(w);
        }
    }

    /** The key's state, resident from now on and marked changed (it is about to be). */
    private KeyState residentState(Object key, long time) throws Exception {
        ResidentStates.Entry e = resident.get(key);
        if (e != null && expired(e, time)) {
            e.state = fresh(initial(key));
        }
        if (e == null) {
            setCurrentKey(key);
            KeyState s = stored.value();
            if (s == null) {
                s = initial(key);
            } else {
                if (copyOnAccess) {
                    s = s.copy();
                }
                if (storedRng != null) {
                    Long rng = storedRng.value();
                    s.setRng(rng != null ? rng : initialRng(key));
                }
            }
            e = new ResidentStates.Entry(fresh(s));
            resident.put(key, e);
        }
        e.dirty = true;
        e.lastUsed = time;
        return e.state;
    }

    /** A key that starts afresh (its random generator from the seed and the key). */
    private KeyState initial(Object key) {
        KeyState s = KeyState.initial(config.startToken(), serializer.fingerprint());
        s.setRng(initialRng(key));
        return s;
    }

    private long initialRng(Object key) {
        return config.generate() != null ? SplitMix64.seedFor(config.generate().seed(), String.valueOf(key)) : 0;
    }

    private boolean expired(ResidentStates.Entry e, long time) {
        return config.idleStateTtl() != null && time - e.lastUsed > config.idleStateTtl().toMillis();
    }

    /** Fills in the model's initial state for a key that starts afresh. */
    private KeyState fresh(KeyState s) {
        if (s.data() == null) {
            s.setData(model.initialState().data());
        }
        return s;
    }

    private void write(Object key, KeyState s) throws Exception {
        setCurrentKey(key);
        stored.update(copyOnAccess ? s.copy() : s);
        if (storedRng != null) {
            storedRng.update(s.rng());
        }
    }

    private void emit(PendingRecord r, RwkvResult result) {
        if (r.timestamp == PendingRecord.NO_TIMESTAMP) {
            reuse.eraseTimestamp();
            output.collect(reuse.replace(result));
        } else {
            output.collect(reuse.replace(result, r.timestamp));
        }
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    /** Something that moves the backend's current key. */
    private interface KeyedWork {
        int run() throws Exception;
    }

    /** Runs {@code work}, then makes the key that was current before it current again. */
    private int withKeyRestored(KeyedWork work) throws Exception {
        Object saved = getCurrentKey();
        try {
            return work.run();
        } finally {
            if (saved != null) {
                setCurrentKey(saved);
            }
        }
    }
}
