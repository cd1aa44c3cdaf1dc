/**
 * The keyed Flink operator that scores records with an RWKV model given the history of their key.
 *
 * <p>Users call {@link dev.flinkrwkv.operator.RwkvStreams#score} on a keyed stream with a
 * {@link dev.flinkrwkv.operator.RwkvOperatorConfig}, and get one {@link dev.flinkrwkv.operator.RwkvResult}
 * per record; {@link dev.flinkrwkv.operator.RwkvStreams#generate} with
 * {@link dev.flinkrwkv.operator.GenerateOptions} treats records as prompts and emits generated continuations
 * ({@link dev.flinkrwkv.operator.RaggedGenerator}). {@link dev.flinkrwkv.operator.RwkvOperator}'s class
 * comment explains the design: buffering across keys, ragged batched evaluation
 * ({@link dev.flinkrwkv.operator.RaggedScorer}), resident states bounded in bytes ({@link dev.flinkrwkv.operator.ResidentStates}) and the checkpoint contract.
 */
package dev.flinkrwkv.operator;
