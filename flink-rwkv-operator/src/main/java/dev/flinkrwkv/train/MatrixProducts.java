package dev.flinkrwkv.train;

/**
 * The matrix products of the training passes over T rows: {@code y[t] = W · x[t]} and its gradients
 * {@code dx[t] += W^T · dy[t]}, {@code dW += sum_t dy[t] x[t]^T}, for the matrices of one model (W named by
 * its offset in the flat parameter array, row-major {@code rows x cols} as the file stores it). Activations
 * and gradients stay double arrays either way; only the products' arithmetic differs:
 * <ul>
 *   <li>{@link #exact}: double precision throughout (the gradient check's path, {@link Dense});
 *   <li>{@link #float32}: inputs and weights rounded to float32 and summed in float32 with fused
 *       multiply-adds by {@link FloatGemm} (the Vector API when present), several times faster; the
 *       results agree with the exact path to float rounding (tested).
 * </ul>
 * One instance belongs to one chunk (one thread) and holds its scratch.
 */
abstract class MatrixProducts {
    /**
     * Called at the start of every forward pass with the current parameter values. The exact path takes
     * them here; the float32 path reads its {@link FloatWeights}, which their owner keeps current.
     */
    abstract void refresh(double[] params);

    /** {@code y[t] = W · x[t]} (overwritten) for t in [0, count). */
    abstract void mul(int wOff, int rows, int cols, double[] x, double[] y, int count);

    /**
     * {@code dW += sum_t dy[t] x[t]^T} into {@code grad}, and {@code dx[t] += W^T dy[t]} unless dx is null.
     * {@code x} is the input of this matrix's last {@link #mul}, unchanged since (the float32 path reuses its
     * rounded copy).
     */
    abstract void mulBackward(double[] grad, int wOff, int rows, int cols, double[] x, double[] dy, double[] dx,
                              int count);

    static MatrixProducts exact(Rwkv7Params model) {
        return new Exact(model);
    }

    static MatrixProducts float32(FloatWeights weights, int capacity) {
        return new Float32(weights, capacity);
    }

    /** Whether {@code t} is one of the matrices the passes multiply by (the embedding is only looked up). */
    private static boolean isProductMatrix(Rwkv7Params model, ParamTensor t) {
        return t.ne().length == 2 && t.offset() != model.emb;
    }

    private static final class Exact extends MatrixProducts {
        private final Rwkv7Params model;
        /** The weights with every matrix transposed, so that {@link Dense#mul} runs over contiguous rows. */
        private final double[] wT;
        private double[] params;

        Exact(Rwkv7Params model) {
            this.model = model;
            this.wT = new double[model.size()];
        }

        @Override
        void refresh(double[] p) {
            params = p;
            for (ParamTensor t : model.tensors()) {
                if (isProductMatrix(model, t)) {
                    Dense.transpose(p, wT, t.offset(), t.ne()[1], t.ne()[0]);
                }
            }
        }

        @Override
        void mul(int wOff, int rows, int cols, double[] x, double[] y, int count) {
            Dense.mul(wT, wOff, rows, cols, x, y, count);
        }

        @Override
        void mulBackward(double[] grad, int wOff, int rows, int cols, double[] x, double[] dy, double[] dx,
                         int count) {
            Dense.mulBackward(params, grad, wOff, rows, cols, x, dy, dx, count);
        }
    }

    /**
     * Every product matrix of a model as float32, as stored ({@code w}) and transposed ({@code wT}), each at
     * its offset in the flat parameter array. Shared read-only by the chunks of all threads, so that the
     * copy is made once per optimizer step rather than once per chunk.
     */
    static final class FloatWeights {
        private final Rwkv7Params model;
        final float[] w, wT;

        FloatWeights(Rwkv7Params model) {
            this.model = model;
            this.w = new float[model.size()];
            this.wT = new float[model.size()];
            update();
        }

        private static final int BLOCK = 16;

        /** Takes the model's current values; call before the chunks run, never while they run. */
        void update() {
            update(0, 1);
        }

        /** {@link #update()} for part {@code part} of {@code parts} of the matrices (every parts-th one). */
        void update(int part, int parts) {
            double[] p = model.values;
            int index = 0;
            for (ParamTensor t : model.tensors()) {
                if (isProductMatrix(model, t) && index++ % parts == part) {
                    int off = t.offset(), rows = t.ne()[1], cols = t.ne()[0];
                    for (int i = off; i < off + rows * cols; i++) {
                        w[i] = (float) p[i];
                    }
                    // The transpose in square blocks, so that its writes fill whole cache lines of wT rather than
                    // touching one value of a line per row.
                    for (int n0 = 0; n0 < rows; n0 += BLOCK) {
                        for (int k0 = 0; k0 < cols; k0 += BLOCK) {
                            for (int k = k0; k < Math.min(k0 + BLOCK, cols); k++) {
                                for (int n = n0; n < Math.min(n0 + BLOCK, rows); n++) {
                                    wT[off + k * rows + n] = w[off + n * cols + k];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static final class Float32 extends MatrixProducts {
        private final FloatGemm gemm = FloatGemm.get();
        private final float[] w, wT;
        /** The product matrices' offsets, ascending, and each one's last T-row input as float32. */
        private final int[] matrices;
        private final float[][] inputs;
        /** Scratch: the T-row output gradients as float32, and the product. */
        private final float[] dyIn, product;

        Float32(FloatWeights weights, int capacity) {
            this.w = weights.w;
            this.wT = weights.wT;
            Rwkv7Params model = weights.model;
            int widest = 0, largest = 0;
            java.util.TreeMap<Integer, Integer> columns = new java.util.TreeMap<>();
            for (ParamTensor t : model.tensors()) {
                if (isProductMatrix(model, t)) {
                    widest = Math.max(widest, Math.max(t.ne()[0], t.ne()[1]));
                    largest = Math.max(largest, t.size());
                    columns.put(t.offset(), t.ne()[0]);
                }
            }
            matrices = new int[columns.size()];
            inputs = new float[columns.size()][];
            int i = 0;
            for (java.util.Map.Entry<Integer, Integer> e : columns.entrySet()) {
                matrices[i] = e.getKey();
                inputs[i++] = new float[capacity * e.getValue()];
            }
            dyIn = new float[capacity * widest];
            product = new float[Math.max(capacity * widest, largest)];
        }

        /** The float32 copy of the input of the matrix at {@code wOff}. */
        private float[] input(int wOff) {
            return inputs[java.util.Arrays.binarySearch(matrices, wOff)];
        }

        @Override
        void refresh(double[] p) {
            // The shared FloatWeights are updated by their owner.
        }

        @Override
        void mul(int wOff, int rows, int cols, double[] x, double[] y, int count) {
            float[] in = input(wOff);
            toFloat(x, in, count * cols);
            gemm.multiply(in, cols, 1, count, cols, wT, wOff, rows, product);
            for (int i = 0; i < count * rows; i++) {
                y[i] = product[i];
            }
        }

        @Override
        void mulBackward(double[] grad, int wOff, int rows, int cols, double[] x, double[] dy, double[] dx,
                         int count) {
            // dW (rows x cols) = dy^T (rows x T) · x (T x cols): dy read transposed where it lies.
            toFloat(dy, dyIn, count * rows);
            gemm.multiply(dyIn, 1, rows, rows, count, input(wOff), 0, cols, product);
            for (int i = 0; i < rows * cols; i++) {
                grad[wOff + i] += product[i];
            }
            if (dx == null) {
                return;
            }
            // dx (T x cols) += dy (T x rows) · W (rows x cols).
            gemm.multiply(dyIn, rows, 1, count, rows, w, wOff, cols, product);
            for (int i = 0; i < count * cols; i++) {
                dx[i] += product[i];
            }
        }

        private static void toFloat(double[] from, float[] to, int n) {
            for (int i = 0; i < n; i++) {
                to[i] = (float) from[i];
            }
        }
    }
}
