package dev.flinkrwkv.operator;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/** Takes a text field (the record's text, or the tag copied to its result) out of an input record. */
@PublicEvolving
@FunctionalInterface
public interface RecordField<IN> extends Serializable {
    String get(IN record);
}
