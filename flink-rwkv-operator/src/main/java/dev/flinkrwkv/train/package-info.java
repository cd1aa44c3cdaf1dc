/**
 * Fitting small byte-level RWKV-7 models on the CPU, to be scored with by the inference engine.
 *
 * <p>{@link dev.flinkrwkv.train.Rwkv7Params} holds the parameters as one flat double array in rwkv.cpp's
 * tensor names and layouts; {@code Rwkv7Chunk} runs the forward pass over a chunk of T tokens from a
 * carried state (the engine's math) and its backward pass (truncated BPTT: no gradient into the
 * carried state); {@link dev.flinkrwkv.train.Rwkv7Trainer} drives B streams of chunks data-parallel over
 * threads with {@link dev.flinkrwkv.train.Adam}, gradient clipping and a
 * {@link dev.flinkrwkv.train.LearningRateSchedule}, saves and resumes checkpoints, and writes the model as
 * an rwkv.cpp FP32 file that {@code RwkvModel.load} reads like any other.
 *
 * <p>The matrix products, most of the work, run in float32 with fused multiply-adds ({@code MatrixProducts},
 * {@code FloatGemm}: the Vector API when its module is present, a plain-Java kernel with the same bits
 * otherwise), and so does the WKV recurrence ({@code WkvRecurrence}, plain Java float loops);
 * everything else and the optimizer stay in double. A chunk can also run its products and recurrence in
 * double ({@code MatrixProducts.exact}, {@code WkvRecurrence.exact}): the gradient check verifies that path
 * against finite differences, and {@code FloatProductsTest} bounds the float32 path's distance from it
 * (gradient relative L2 error below 1e-4, 3e-7 measured at 2 x 64).
 */
package dev.flinkrwkv.train;
