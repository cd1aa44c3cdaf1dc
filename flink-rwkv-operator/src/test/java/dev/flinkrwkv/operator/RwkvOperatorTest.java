package dev.flinkrwkv.operator;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.state.StatePrecision;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The keyed operator on a MiniCluster (one task manager, 4 slots, shared by all tests here) with RocksDB,
 * incremental checkpoints, parallelism 2 and 1,000 to 1,200 interleaved keys: results equal the bare evaluator per
 * key; failures, savepoints with rescaling, a model change and idle expiry behave as promised.
 *
 * <p>Runs to compare against are computed once and shared: the failure-free run of each model
 * ({@link #baseline}) and the bare evaluator's results ({@link #reference}).
 */
class RwkvOperatorTest {
    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(METRICS.addToConfiguration(new Configuration()))
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final int KEYS = 1200;
    private static final int RECORDS = 2000;
    /** Fewer for v7, whose tiny model has 25 times v4's state (200 KB) and the slower step. */
    private static final int V7_KEYS = 1000;
    private static final int V7_RECORDS = 1200;
    private static final String V4 = "4v0-660K-FP32";
    private static final String V4_HALF = "4v0-660K-FP16";
    private static final String V7 = "7v0-834K-FP32";

    @TempDir
    static Path tmp;

    private static final Map<String, List<String>> BASELINES = new HashMap<>();
    private static final Map<String, JobID> BASELINE_JOBS = new HashMap<>();
    private static final Map<String, List<RwkvResult>> REFERENCES = new HashMap<>();
    private static String savepoint;
    private static List<String> beforeSavepoint;
    private static int dirs;

    static String modelPath(String model) {
        return SharedData.tinyModel("tiny-rwkv-" + model + ".bin").toString();
    }

    static RwkvOperatorConfig.Builder<Long> config(String model) {
        return RwkvOperatorConfig.<Long>builder().model(modelPath(model)).tokens(TestRecords::tokens)
                .tag(String::valueOf).emit(ScoreOutput.LOG_PROBS, ScoreOutput.TOP_K).topK(3);
    }

    private static Path newDir() {
        return tmp.resolve("job" + dirs++);
    }

    private static int keys(String model) {
        return model.equals(V7) ? V7_KEYS : KEYS;
    }

    private static int records(String model) {
        return model.equals(V7) ? V7_RECORDS : RECORDS;
    }

    private static TestJob job(RwkvOperatorConfig<Long> config) {
        TestJob j = new TestJob();
        j.keys = KEYS;
        j.count = RECORDS;
        j.config = config;
        return j;
    }

    /** The failure-free run of {@code model} with default batching. */
    private static synchronized List<String> baseline(String model) throws Exception {
        if (!BASELINES.containsKey(model)) {
            TestJob j = job(config(model).build());
            j.keys = keys(model);
            j.count = records(model);
            j.checkpointMs = 500;
            BASELINES.put(model, j.run(newDir()));
            BASELINE_JOBS.put(model, TestJob.lastJob);
        }
        return BASELINES.get(model);
    }

    private static synchronized List<RwkvResult> reference(String model) throws Exception {
        if (!REFERENCES.containsKey(model)) {
            REFERENCES.put(model, ReferenceScorer.score(RwkvModel.load(Path.of(modelPath(model))),
                    TestRecords.byKey(0, records(model), keys(model)), StatePrecision.FLOAT32, true, 3));
        }
        return REFERENCES.get(model);
    }

    @ParameterizedTest
    @ValueSource(strings = {V4, V7})
    void resultsEqualTheBareEvaluatorPerKeyInOrder(String model) throws Exception {
        ResultLines.assertMatches(reference(model), baseline(model));
    }

    /** The sum over the subtasks of a metric of the RWKV operator in a job. */
    private static long metricSum(JobID job, String name) {
        long sum = 0;
        int found = 0;
        for (Map.Entry<String, Metric> e : METRICS.findMetrics(job, name).entrySet()) {
            if (!e.getKey().contains("RWKV") || !e.getKey().endsWith("." + name)) {
                continue;
            }
            Metric m = e.getValue();
            sum += m instanceof Counter ? ((Counter) m).getCount()
                    : m instanceof Histogram ? ((Histogram) m).getCount()
                    : ((Number) ((Gauge<?>) m).getValue()).longValue();
            found++;
        }
        assertEquals(2, found, name + " of both subtasks");
        return sum;
    }

    @Test
    void theSubtasksReleaseTheirSharedModelWhenTheJobEnds() throws Exception {
        baseline(V4); // a finished job whose two subtasks shared one model
        assertEquals(0, SharedModels.held(), "models held after every job of this JVM ended");
    }

    @Test
    void metricsCountTokensRecordsBatchesAndWriteBacks() throws Exception {
        baseline(V4);
        JobID job = BASELINE_JOBS.get(V4);
        long tokens = 0;
        for (long i = 0; i < RECORDS; i++) {
            tokens += TestRecords.tokens(i).length;
        }
        assertEquals(tokens, metricSum(job, "rwkv.tokens"));
        assertEquals(RECORDS, metricSum(job, "rwkv.records"));
        assertTrue(metricSum(job, "rwkv.recordsPerBatch") > 0, "batches");
        // every key's state was written to keyed state at least once (before a barrier or at the end)
        long keys = TestRecords.byKey(0, RECORDS, KEYS).size();
        long writeBacks = metricSum(job, "rwkv.writeBacks");
        assertTrue(writeBacks >= keys, writeBacks + " write-backs for " + keys + " keys");
        assertTrue(metricSum(job, "rwkv.evaluatorNanos") > 0, "evaluator time");
        assertTrue(metricSum(job, "rwkv.residentStates") > 0, "resident states");
        metricSum(job, "rwkv.residentBytes");
        metricSum(job, "rwkv.writeBacksLastCheckpoint");
    }

    @Test
    void failuresAtThreePointsLeaveTheCommittedOutputUnchanged() throws Exception {
        TestJob j = job(config(V4).build());
        j.perCheckpoint = 200;
        j.failAt = new long[] {500, 1100, 1600};
        List<String> out = j.run(newDir());
        assertEquals(3, TestJob.FAILURES.get(), "failures injected");
        ResultLines.assertSameLines(baseline(V4), out);
    }

    @Test
    void failuresWithTinyBatchesAndConstantWriteBacksLeaveTheOutputUnchanged() throws Exception {
        // batches of 3 records and room for 4 resident states: write-backs and evictions all the time
        long stateBytes = 4L * RwkvModel.load(Path.of(modelPath(V4))).stateSize();
        TestJob j = job(config(V4).maxBatchSize(3).maxResidentBytes(4 * stateBytes).build());
        j.perCheckpoint = 200;
        j.failAt = new long[] {400, 900, 1500};
        List<String> out = j.run(newDir());
        assertEquals(3, TestJob.FAILURES.get(), "failures injected");
        ResultLines.assertSameLines(baseline(V4), out);
    }

    /** Runs at parallelism 2 until a few checkpoints passed, then stops with a savepoint (once). */
    private static synchronized String savepoint() throws Exception {
        if (savepoint == null) {
            TestJob j = job(config(V4).build());
            j.perCheckpoint = 200;
            j.collect = true;
            Path dir = newDir();
            JobClient client = j.start(dir);
            TestJob.awaitWhileRunning(client, () -> TestJob.CHECKPOINTS.get() >= 4, "4 checkpoints completed");
            savepoint = TestJob.await(client, client.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL), "savepoint");
            beforeSavepoint = TestJob.output(dir);
            assertTrue(beforeSavepoint.size() > 0 && beforeSavepoint.size() < RECORDS,
                    "stopped mid-stream, after " + beforeSavepoint.size() + " records");
        }
        return savepoint;
    }

    private static List<String> resume(RwkvOperatorConfig<Long> config, int parallelism) throws Exception {
        TestJob j = job(config);
        j.savepoint = savepoint();
        j.parallelism = parallelism;
        j.collect = true;
        return j.run(newDir());
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 1})
    void savepointAtParallelism2ResumesAt3And1AsIfUninterrupted(int parallelism) throws Exception {
        List<String> after = resume(config(V4).build(), parallelism);
        List<String> all = new ArrayList<>(beforeSavepoint);
        all.addAll(after);
                ResultLines.assertSameLines(baseline(V4), all);
    }

    @Test
    void resumingWithAnotherModelFailsNamingBothFingerprints() throws Exception {
        TestJob j = job(config(V4_HALF).build());
        j.savepoint = savepoint();
        j.restarts = 0;
        j.collect = true;
        ExecutionException e = assertThrows(ExecutionException.class, () -> j.run(newDir()));
        String trace = ExceptionUtils.stringifyException(e);
        String old = ModelFile.open(Path.of(modelPath(V4))).fingerprint();
        String now = ModelFile.open(Path.of(modelPath(V4_HALF))).fingerprint();
        assertTrue(trace.contains("ModelMismatchException") && trace.contains(old) && trace.contains(now),
                "the failure names both models:\n" + trace);
    }

    @Test
    void resumingWithAnotherModelAndResetStartsEveryKeyAfresh() throws Exception {
        List<String> after = resume(config(V4_HALF).resetStatesOnModelChange(true).build(), 2);
        Set<Long> done = ResultLines.byTag(beforeSavepoint).keySet();
        Set<Long> rest = new TreeSet<>();
        for (long i = 0; i < RECORDS; i++) {
            if (!done.contains(i)) {
                rest.add(i);
            }
        }
        List<RwkvResult> expected = ReferenceScorer.score(RwkvModel.load(Path.of(modelPath(V4_HALF))),
                TestRecords.byKey(rest, KEYS), StatePrecision.FLOAT32, true, 3);
        ResultLines.assertMatches(expected, after);
    }

    @Test
    void idleKeysExpireAndStartAgainFromTheInitialState() throws Exception {
        int keys = 20;
        long stateBytes = 4L * RwkvModel.load(Path.of(modelPath(V4))).stateSize();
        // half the keys stay resident (expire in memory), half are written back (expire in RocksDB)
        TestJob j = job(config(V4).idleStateTtl(Duration.ofSeconds(3)).maxResidentBytes(10 * stateBytes).build());
        j.keys = keys;
        j.count = 400;
        j.pauseAt = 200;
        j.pauseMs = 5000;
        List<String> out = j.run(newDir());
        RwkvModel m = RwkvModel.load(Path.of(modelPath(V4)));
        List<RwkvResult> expected = new ArrayList<>(ReferenceScorer.score(m, TestRecords.byKey(0, 200, keys),
                StatePrecision.FLOAT32, true, 3));
        expected.addAll(ReferenceScorer.score(m, TestRecords.byKey(200, 400, keys), StatePrecision.FLOAT32, true, 3));
        ResultLines.assertMatches(expected, out);
    }
}
