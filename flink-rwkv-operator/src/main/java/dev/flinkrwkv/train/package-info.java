/**
 * Fitting small byte-level RWKV-7 models on the CPU, to be scored with by the inference engine.
 *
 * <p>{@link dev.flinkrwkv.train.Rwkv7Params} holds the parameters as one flat double array in rwkv.cpp's
 * tensor names and layouts; {@code Rwkv7Chunk} runs the forward pass over a chunk of T tokens from a
 * carried state (the engine's math, in double) and its backward pass (truncated BPTT: no gradient into the
 * carried state); {@link dev.flinkrwkv.train.Rwkv7Trainer} drives B streams of chunks data-parallel over
 * threads with {@link dev.flinkrwkv.train.Adam}, gradient clipping and a
 * {@link dev.flinkrwkv.train.LearningRateSchedule}, saves and resumes checkpoints, and writes the model as
 * an rwkv.cpp FP32 file that {@code RwkvModel.load} reads like any other.
 *
 * <p>Double precision throughout keeps the gradient check exact to ~1e-6 and costs about half the SIMD
 * width of float; the models this targets (tens to hundreds of thousands of parameters) fit in minutes.
 */
package dev.flinkrwkv.train;
