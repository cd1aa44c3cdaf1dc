/**
 * How a key's RWKV state is kept in Flink keyed state: {@link dev.flinkrwkv.state.KeyState} (state, pending
 * token, counters), its compact serializer {@link dev.flinkrwkv.state.RwkvStateSerializer} in a
 * {@link dev.flinkrwkv.state.StatePrecision}, and the snapshot that ties a checkpoint to its model
 * ({@link dev.flinkrwkv.state.RwkvStateSerializerSnapshot}, {@link dev.flinkrwkv.state.ModelMismatchException}).
 */
package dev.flinkrwkv.state;
