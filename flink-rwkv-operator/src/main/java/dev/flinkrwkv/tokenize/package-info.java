/**
 * Text to token ids and back. {@link dev.flinkrwkv.tokenize.Tokenizers} picks a
 * {@link dev.flinkrwkv.tokenize.Tokenizer} by name or by a model's vocabulary size:
 * {@link dev.flinkrwkv.tokenize.WorldTokenizer} (RWKV World models, vocabulary 65536),
 * {@link dev.flinkrwkv.tokenize.ByteLevelBpeTokenizer} (the GPT-NeoX 20B BPE of RWKV-4 Pile models, 50277, or any
 * byte-level BPE {@code tokenizer.json}) and {@link dev.flinkrwkv.tokenize.ByteTokenizer} (byte-level models, 256).
 * The World and 20B tables ship in the jar, with their licenses beside them. Generated ids become text through a
 * {@link dev.flinkrwkv.tokenize.StreamingDecoder}, which never emits a character split over tokens in pieces.
 */
package dev.flinkrwkv.tokenize;
