/**
 * Choosing the next token when generating: {@link dev.flinkrwkv.sample.Sampler} (greedy, temperature, top-k,
 * top-p and their combinations, as {@link dev.flinkrwkv.sample.SamplerOptions} say) and
 * {@link dev.flinkrwkv.sample.SplitMix64}, a random generator whose whole state is one {@code long} kept in
 * Flink state, so that generated tokens are a pure function of (model, a key's records in order, options).
 */
package dev.flinkrwkv.sample;
