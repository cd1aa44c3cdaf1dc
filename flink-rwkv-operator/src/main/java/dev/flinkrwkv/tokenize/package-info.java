/**
 * Text to token ids: {@link dev.flinkrwkv.tokenize.Tokenizer}, and {@link dev.flinkrwkv.tokenize.ByteTokenizer}
 * for byte-level models (vocabulary 256). The World and 20B tokenizers come later.
 */
package dev.flinkrwkv.tokenize;
