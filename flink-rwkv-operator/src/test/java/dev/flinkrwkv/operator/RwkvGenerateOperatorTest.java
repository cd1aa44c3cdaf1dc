package dev.flinkrwkv.operator;

import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.sample.SamplerOptions;
import dev.flinkrwkv.state.StatePrecision;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Generation on a MiniCluster with RocksDB, incremental checkpoints and parallelism 2: the committed output
 * equals the plain per-key loop of evaluator and sampler, also when failures are injected mid-run with tiny
 * batches and room for only 4 resident states (so model and random generator states go through RocksDB
 * and are restored from checkpoints all the time).
 */
class RwkvGenerateOperatorTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final int KEYS = 30;
    private static final int RECORDS = 240;
    private static final String MODEL = "4v0-660K-FP32";
    private static final GenerateOptions OPTIONS = GenerateOptions.defaults().maxNewTokens(4).seed(11)
            .sampler(SamplerOptions.temperature(1).withTopK(30)).stopAt('\n');

    @TempDir
    Path tmp;

    private static RwkvOperatorConfig.Builder<Long> config() {
        return RwkvOperatorConfig.<Long>builder().model(RwkvOperatorTest.modelPath(MODEL)).tokens(TestRecords::tokens)
                .tag(String::valueOf).generate(OPTIONS);
    }

    private static List<String> reference() throws Exception {
        List<String> lines = new ArrayList<>();
        for (RwkvResult r : ReferenceGenerator.generate(RwkvModel.load(Path.of(RwkvOperatorTest.modelPath(MODEL))),
                TestRecords.byKey(0, RECORDS, KEYS), StatePrecision.FLOAT32, OPTIONS)) {
            lines.add(r.toString());
        }
        return lines;
    }

    private static TestJob job(RwkvOperatorConfig<Long> config) {
        TestJob j = new TestJob();
        j.keys = KEYS;
        j.count = RECORDS;
        j.config = config;
        return j;
    }

    @Test
    void generatesWhatThePlainLoopDoes() throws Exception {
        TestJob j = job(config().build());
        j.checkpointMs = 500;
        ResultLines.assertSameLines(reference(), j.run(tmp.resolve("run")));
    }

    @Test
    void failuresLeaveTheCommittedOutputUnchanged() throws Exception {
        long stateBytes = 4L * RwkvModel.load(Path.of(RwkvOperatorTest.modelPath(MODEL))).stateSize();
        TestJob j = job(config().maxBatchSize(3).maxResidentBytes(4 * stateBytes).build());
        j.perCheckpoint = 40;
        j.failAt = new long[] {70, 160};
        List<String> out = j.run(tmp.resolve("failing"));
        assertEquals(2, TestJob.FAILURES.get(), "failures injected");
        ResultLines.assertSameLines(reference(), out);
    }
}
