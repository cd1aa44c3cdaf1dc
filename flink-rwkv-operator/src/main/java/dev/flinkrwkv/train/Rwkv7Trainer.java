package dev.flinkrwkv.train;

import dev.flinkrwkv.model.TensorType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Fits a byte-level RWKV-7 to training bytes with truncated backpropagation through time.
 *
 * <p>A batch has B streams, each reading the training bytes from its own offset (stream b starts at
 * {@code b/B} of the way through), T tokens per step, with its recurrent state carried from one step to
 * the next and reset to zeros when the stream wraps around the end of the data. Each step computes the
 * mean next-byte loss of the B chunks, its gradient (no gradient into the carried states), and one
 * {@link Adam} update after clipping the gradient's global norm.
 *
 * <p>The B chunks are independent, so they run data-parallel: worker w of N takes streams w, w+N, ... in
 * order into its own gradient buffer, and the buffers are summed in worker order. The result therefore
 * depends only on the seed, the data, the settings and the thread count, never on timing. The same
 * threads ({@link Crew}) then sum the buffers and apply the update over disjoint ranges of the parameters,
 * which changes no value, only which core computes it.
 *
 * <p>The matrix products and the WKV recurrence, most of a step's work, run in float32
 * ({@link MatrixProducts#float32}, {@link WkvRecurrence#float32}); the rest of the passes and the optimizer
 * stay in double.
 */
public final class Rwkv7Trainer implements AutoCloseable {
    /** Everything that fixes what is computed (the thread count only changes summation order). */
    public record Settings(int context, int batch, int threads) {
        public Settings {
            if (context < 1 || batch < 1 || threads < 1) {
                throw new IllegalArgumentException("context, batch and threads must be positive");
            }
        }
    }

    /** The outcome of one step: mean training loss (nats per byte) and the gradient norm before clipping. */
    public record StepResult(double loss, double gradientNorm) {}

    private final Rwkv7Params model;
    private final Adam adam;
    private final Settings settings;
    private final byte[] train;
    private final long dataFingerprint;
    private final int[] position;
    private final double[][] states;
    /** The float32 copy of the weights the workers' products read, updated before each parallel section. */
    private final MatrixProducts.FloatWeights floatWeights;
    private final Worker[] workers;
    private final Crew crew;
    /** The parts of a step, kept in fields so that a step allocates no lambda. */
    private final Crew.Task refreshWeights = this::refreshWeights, trainWorker = this::trainWorker,
            sumGradients = this::sumGradients, applyAdam = this::applyAdam;
    private final double[] grad;
    long resumedElapsedNanos;

    private static final class Worker {
        final Rwkv7Chunk chunk;
        final double[] grad;
        final int[] in, target;

        Worker(Rwkv7Params model, MatrixProducts.FloatWeights weights, int context) {
            chunk = new Rwkv7Chunk(model, context, MatrixProducts.float32(weights, context),
                    WkvRecurrence.float32(model.shape, context));
            grad = new double[model.size()];
            in = new int[context];
            target = new int[context];
        }
    }

    Rwkv7Trainer(Rwkv7Params model, Adam adam, Settings settings, TrainingData data, int[] position,
                 double[][] states) {
        this.model = model;
        this.adam = adam;
        this.settings = settings;
        this.train = data.train();
        this.dataFingerprint = data.fingerprint();
        if (train.length < settings.context() + 1) {
            throw new IllegalArgumentException("the training data has " + train.length
                    + " bytes; a context of " + settings.context() + " needs at least " + (settings.context() + 1));
        }
        this.position = position;
        this.states = states;
        this.floatWeights = new MatrixProducts.FloatWeights(model);
        this.workers = new Worker[settings.threads()];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new Worker(model, floatWeights, settings.context());
        }
        this.crew = new Crew(workers.length, "rwkv-fit");
        this.grad = new double[model.size()];
    }

    /** A new model of {@code shape}, initialized from {@code seed}, with its streams at their starts. */
    public static Rwkv7Trainer create(Rwkv7Shape shape, long seed, TrainingData data, Settings settings) {
        Rwkv7Params model = new Rwkv7Params(shape);
        model.initialize(seed);
        int span = Math.max(1, data.train().length - settings.context());
        int[] position = new int[settings.batch()];
        double[][] states = new double[settings.batch()][shape.stateSize()];
        for (int b = 0; b < position.length; b++) {
            position[b] = (int) ((long) b * span / settings.batch());
        }
        return new Rwkv7Trainer(model, Adam.forRwkv(model.size()), settings, data, position, states);
    }

    /**
     * Restores a trainer from a checkpoint written by {@link #saveCheckpoint}, with possibly another thread
     * count. The data must be the data it was fitted to.
     */
    public static Rwkv7Trainer resume(Path checkpoint, TrainingData data, int threads) throws IOException {
        return Checkpoint.read(checkpoint, data, threads);
    }

    public Rwkv7Params model() {
        return model;
    }

    public Settings settings() {
        return settings;
    }

    /** The elapsed fitting time stored in the checkpoint this trainer resumed from (0 for a new one). */
    public long resumedElapsedNanos() {
        return resumedElapsedNanos;
    }

    /** Decoupled weight decay at {@code rate} (0: none) on the weight matrices ({@link Rwkv7Params#weightMatrices}). */
    public void setWeightDecay(double rate) {
        adam.setWeightDecay(rate, model.weightMatrices());
    }

    /** Optimizer steps taken so far. */
    public long steps() {
        return adam.steps();
    }

    /** One optimizer step on the next chunk of every stream with learning rate {@code lr}. */
    public StepResult step(double lr, double clip) {
        crew.run(refreshWeights);
        double loss;
        try {
            loss = crew.run(trainWorker);
        } catch (RuntimeException | Error e) {
            // The workers' buffers must start the next step at zero, which sumGradients would have left them.
            for (Worker k : workers) {
                Arrays.fill(k.grad, 0);
            }
            throw e;
        }
        crew.run(sumGradients);
        double norm = adam.begin(grad, lr, clip);
        crew.run(applyAdam);
        double tokens = (double) settings.batch() * settings.context();
        return new StepResult(loss / tokens, norm);
    }

    /** Member w's share of the float32 weights' refresh: every N-th matrix. */
    private double refreshWeights(int w) {
        floatWeights.update(w, workers.length);
        return 0;
    }

    /**
     * Member w's range of the mean gradient: the workers' buffers summed in worker order, over the tokens. It
     * leaves the buffers at zero for the next step: one pass over them instead of a sum and a clearing.
     */
    private double sumGradients(int w) {
        double tokens = (double) settings.batch() * settings.context();
        int from = range(w), to = range(w + 1);
        for (int i = from; i < to; i++) {
            double sum = 0;
            for (Worker k : workers) {
                sum += k.grad[i];
                k.grad[i] = 0;
            }
            grad[i] = sum / tokens;
        }
        return 0;
    }

    private double applyAdam(int w) {
        adam.apply(model.values, grad, range(w), range(w + 1));
        return 0;
    }

    /** Where member w's range of the parameter vector starts. */
    private int range(int w) {
        return (int) ((long) w * grad.length / workers.length);
    }

    /**
     * Worker w's share of a step: streams w, w+N, ... into its own gradient buffer (zero on entry, see
     * {@link #sumGradients}); returns their summed loss.
     */
    private double trainWorker(int w) {
        Worker k = workers[w];
        double sum = 0;
        for (int b = w; b < settings.batch(); b += workers.length) {
            sum += trainChunk(k, b);
        }
        return sum;
    }

    private double trainChunk(Worker k, int b) {
        int t = settings.context(), pos = position[b];
        for (int i = 0; i < t; i++) {
            k.in[i] = train[pos + i] & 0xFF;
            k.target[i] = train[pos + i + 1] & 0xFF;
        }
        double loss = k.chunk.forward(k.in, k.target, t, states[b]);
        k.chunk.backward(k.grad);
        int span = train.length - t;
        int next = pos + t;
        if (next >= span) {
            // The stream wraps to the start: the text there does not follow, so the state starts afresh.
            next %= span;
            Arrays.fill(states[b], 0);
        }
        position[b] = next;
        return loss;
    }

    /**
     * The mean loss in nats per byte of predicting each byte of {@code bytes} (the first {@code maxBytes})
     * from those before it. The bytes are cut into a fixed number of contiguous segments, each run from the
     * initial state (so the figure does not depend on the thread count), and the segments are spread over
     * the workers.
     */
    public double evaluate(byte[] bytes, int maxBytes) {
        int n = Math.min(bytes.length, maxBytes);
        if (n < 2) {
            return Double.NaN;
        }
        int segments = Math.min(4, n / 2);
        int[] from = new int[segments + 1];
        for (int s = 0; s <= segments; s++) {
            from[s] = (int) ((long) s * n / segments);
        }
        double[] sums = new double[segments];
        floatWeights.update();
        crew.run(w -> {
            Worker k = workers[w];
            for (int s = w; s < segments; s += workers.length) {
                sums[s] = evaluateSegment(k, bytes, from[s], from[s + 1]);
            }
            return 0;
        });
        double total = 0;
        for (double v : sums) {
            total += v;
        }
        return total / (n - segments);
    }

    private double evaluateSegment(Worker k, byte[] bytes, int start, int end) {
        double[] state = new double[model.shape.stateSize()];
        double sum = 0;
        for (int pos = start; pos < end - 1; pos += settings.context()) {
            int len = Math.min(settings.context(), end - 1 - pos);
            for (int i = 0; i < len; i++) {
                k.in[i] = bytes[pos + i] & 0xFF;
                k.target[i] = bytes[pos + i + 1] & 0xFF;
            }
            sum += k.chunk.forward(k.in, k.target, len, state);
        }
        return sum;
    }

    /** Writes everything needed to continue exactly where this run is (see {@link Checkpoint}). */
    public void saveCheckpoint(Path file, long elapsedNanos) throws IOException {
        Checkpoint.write(file, this, elapsedNanos);
    }

    /** Writes the model as an rwkv.cpp FP32 file. */
    public void writeModel(Path file) throws IOException {
        writeModel(file, TensorType.FP32);
    }

    /** Writes the model as an rwkv.cpp file of storage type {@code type} (see {@link Rwkv7Params#write}). */
    public void writeModel(Path file, TensorType type) throws IOException {
        model.write(file, type);
    }

    Adam adam() {
        return adam;
    }

    int[] positions() {
        return position;
    }

    double[][] states() {
        return states;
    }

    long dataFingerprint() {
        return dataFingerprint;
    }

    @Override
    public void close() {
        crew.close();
    }
}
