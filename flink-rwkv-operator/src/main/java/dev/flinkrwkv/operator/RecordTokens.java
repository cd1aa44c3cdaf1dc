package dev.flinkrwkv.operator;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/** Takes a record's token ids (in order) out of an input record. Must be serializable (a lambda will do). */
@PublicEvolving
@FunctionalInterface
public interface RecordTokens<IN> extends Serializable {
    int[] tokens(IN record);
}
