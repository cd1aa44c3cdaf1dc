package dev.flinkrwkv.operator;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

import java.nio.file.Path;

/**
 * Entry points for DataStream users: {@code RwkvStreams.score(stream.keyBy(...), config)} scores each
 * record with the RWKV model given the history of its key, emitting one {@link RwkvResult} per record.
 * Give the returned operator a {@code uid} so that savepoints can find its state.
 */
public final class RwkvStreams {
    private RwkvStreams() {}

    public static <IN, K> SingleOutputStreamOperator<RwkvResult> score(KeyedStream<IN, K> keyed,
                                                                        RwkvOperatorConfig<IN> config) {
        String name = "RWKV score (" + Path.of(config.modelPath()).getFileName() + ")";
        return keyed.transform(name, TypeInformation.of(RwkvResult.class), new RwkvOperator<>(config));
    }
}
