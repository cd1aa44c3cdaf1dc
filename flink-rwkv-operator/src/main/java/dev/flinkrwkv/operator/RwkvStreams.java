package dev.flinkrwkv.operator;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

import java.nio.file.Path;

/**
 * Entry points for DataStream users: {@code RwkvStreams.score(stream.keyBy(...), config)} scores each
 * record with the RWKV model given the history of its key, emitting one {@link RwkvResult} per record.
 * {@code RwkvStreams.generate(...)} treats each record as a prompt for its key's conversation and emits the
 * generated continuation. Give the returned operator a {@code uid} so that savepoints can find its state.
 */
@PublicEvolving
public final class RwkvStreams {
    private RwkvStreams() {}

    public static <IN, K> SingleOutputStreamOperator<RwkvResult> score(KeyedStream<IN, K> keyed,
                                                                        RwkvOperatorConfig<IN> config) {
        String name = "RWKV score (" + Path.of(config.modelPath()).getFileName() + ")";
        if (config.generate() != null) {
            throw new IllegalArgumentException("the config generates: use RwkvStreams.generate");
        }
        return keyed.transform(name, TypeInformation.of(RwkvResult.class), new RwkvOperator<>(config));
    }

    /**
     * Each record is a prompt (or the next turn) of its key's conversation: its tokens are read into the key's
     * state, then tokens are sampled as {@link RwkvOperatorConfig#generate()} says until a stop sequence or
     * the token limit, and read into the state too, so the next record continues the conversation. Emits one
     * {@link RwkvResult} per record with {@link RwkvResult#getGenerated()} and {@link RwkvResult#getStop()}
     * (and the prompt's mean surprisal). The random generator's state is kept per key in Flink state, so a
     * replay after a failure generates the same tokens.
     */
    public static <IN, K> SingleOutputStreamOperator<RwkvResult> generate(KeyedStream<IN, K> keyed,
                                                                           RwkvOperatorConfig<IN> config) {
        if (config.generate() == null) {
            throw new IllegalArgumentException("no generate options: call generate(GenerateOptions) on the builder");
        }
        String name = "RWKV generate (" + Path.of(config.modelPath()).getFileName() + ")";
        return keyed.transform(name, TypeInformation.of(RwkvResult.class), new RwkvOperator<>(config));
    }
}
