package dev.flinkrwkv.operator;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.state.StatePrecision;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator in Flink's test harness (heap state backend, controlled processing time): the batch timer,
 * held watermarks, timestamps, and a snapshot and restore with the heap backend, which hands out its own
 * state objects.
 */
class RwkvOperatorHarnessTest {
    private static final int KEYS = 10;
    private static final Path MODEL = SharedData.tinyModel("tiny-rwkv-4v0-660K-FP32.bin");

    private static KeyedOneInputStreamOperatorTestHarness<String, Long, RwkvResult> harness(int batch) throws Exception {
        return harness(batch, 1);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, Long, RwkvResult> harness(int batch, int threads)
            throws Exception {
        RwkvOperatorConfig<Long> cfg = RwkvOperatorConfig.<Long>builder().model(MODEL.toString())
                .tokens(TestRecords::tokens).tag(String::valueOf).emit(ScoreOutput.LOG_PROBS)
                .maxBatchSize(batch).maxBatchDelay(Duration.ofMillis(50)).evaluatorThreads(threads).build();
        return new KeyedOneInputStreamOperatorTestHarness<>(new RwkvOperator<>(cfg), i -> TestRecords.key(i, KEYS),
                Types.STRING);
    }

    private static List<String> results(Iterable<Object> output) {
        List<String> lines = new ArrayList<>();
        for (Object o : output) {
            if (o instanceof StreamRecord) {
                lines.add(((StreamRecord<?>) o).getValue().toString());
            }
        }
        return lines;
    }

    private static List<RwkvResult> reference(long to) throws Exception {
        return ReferenceScorer.score(RwkvModel.load(MODEL), TestRecords.byKey(0, to, KEYS), StatePrecision.FLOAT32,
                true, 0);
    }

    @Test
    void textRecordsUseTheModelsTokenizerAndAMismatchFailsAtOpenInOneLine() throws Exception {
        RwkvOperatorConfig.Builder<Long> text = RwkvOperatorConfig.<Long>builder().model(MODEL.toString())
                .text(TestRecords::text)
                .tag(String::valueOf).emit(ScoreOutput.LOG_PROBS).maxBatchSize(4).maxBatchDelay(Duration.ZERO);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(new RwkvOperator<>(text.build()),
                (Long i) -> TestRecords.key(i, KEYS), Types.STRING)) {
            h.open();
            for (long i = 0; i < 12; i++) {
                h.processElement(i, i);
            }
            ResultLines.assertMatches(reference(12), results(h.getOutput()));
        }
        RwkvOperatorConfig<Long> wrong = text.tokenizer(dev.flinkrwkv.tokenize.Tokenizers.named("20b")).build();
        RwkvOperator<Long> op = new RwkvOperator<>(wrong);
        var h = new KeyedOneInputStreamOperatorTestHarness<>(op, (Long i) -> TestRecords.key(i, KEYS), Types.STRING);
        try {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, h::open);
            assertEquals("model " + MODEL + ": the 20b tokenizer gives ids up to 50276 but the model's vocabulary has 256"
                    + " ids (0 to 255); this model's tokenizer is bytes", e.getMessage());
        } finally {
            op.close(); // as a task does after a failed open (finish is only for the end of input)
        }
    }

    @Test
    void cudaWithoutAGpuFailsAtOpenInOneLineAndAutoScoresOnTheCpu() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.flinkrwkv.backend.Backends.cudaAvailable(), "a GPU is present");
        RwkvOperatorConfig.Builder<Long> b = RwkvOperatorConfig.<Long>builder().model(MODEL.toString())
                .tokens(TestRecords::tokens).tag(String::valueOf).emit(ScoreOutput.LOG_PROBS).maxBatchSize(4)
                .maxBatchDelay(Duration.ZERO);
        assertEquals(Device.AUTO, b.build().device());
        RwkvOperator<Long> op = new RwkvOperator<>(b.device(Device.CUDA).build());
        var cuda = new KeyedOneInputStreamOperatorTestHarness<>(op, (Long i) -> TestRecords.key(i, KEYS), Types.STRING);
        try {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, cuda::open);
            assertEquals("device cuda asked for, but no usable CUDA GPU: " + dev.flinkrwkv.backend.Backends.cudaStatus()
                    + " (use --device auto to fall back to the CPU)", e.getMessage());
        } finally {
            op.close(); // as a task does after a failed open
        }
        try (var auto = new KeyedOneInputStreamOperatorTestHarness<>(new RwkvOperator<>(b.device(Device.AUTO).build()),
                (Long i) -> TestRecords.key(i, KEYS), Types.STRING)) {
            auto.open();
            for (long i = 0; i < 12; i++) {
                auto.processElement(i, i);
            }
            ResultLines.assertMatches(reference(12), results(auto.getOutput()));
        }
    }

    @Test
    void theBatchTimerFlushesThenTheHeldWatermarkFollowsAndTimestampsAreKept() throws Exception {
        try (var h = harness(100)) {
            h.setProcessingTime(0);
            h.open();
            h.processElement(0L, 1000);
            h.processElement(1L, 1001);
            h.processWatermark(2000);
            assertTrue(h.getOutput().isEmpty(), "nothing before the batch is due: " + h.getOutput());
            h.setProcessingTime(60);
            List<Object> out = new ArrayList<>(h.getOutput());
            assertEquals(3, out.size(), out.toString());
            for (int i = 0; i < 2; i++) { // the two keys' results may come in either order
                StreamRecord<?> r = (StreamRecord<?>) out.get(i);
                assertEquals(1000 + Long.parseLong(((RwkvResult) r.getValue()).getTag()), r.getTimestamp());
            }
            assertInstanceOf(Watermark.class, out.get(2));
            assertEquals(2000, ((Watermark) out.get(2)).getTimestamp());
            ResultLines.assertMatches(reference(2), results(out));
        }
    }

    @Test
    void aHeapBackendSnapshotRestoresEveryKeysState() throws Exception {
        List<String> lines = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = harness(7)) {
            h.open();
            for (long i = 0; i < 60; i++) {
                h.processElement(i, i);
            }
            h.prepareSnapshotPreBarrier(1); // evaluates the buffered records and writes states back
            snapshot = h.snapshot(1, 100);
            for (long i = 60; i < 70; i++) {
                h.processElement(i, i); // after the checkpoint: lost with this instance
            }
            h.prepareSnapshotPreBarrier(2);
            lines.addAll(results(h.getOutput()));
        }
        lines.removeIf(l -> Long.parseLong(ResultLines.parse(l).getTag()) >= 60);
        try (var h = harness(7)) {
            h.initializeState(snapshot);
            h.open();
            for (long i = 60; i < 120; i++) {
                h.processElement(i, i);
            }
            h.prepareSnapshotPreBarrier(3);
            lines.addAll(results(h.getOutput()));
        }
        ResultLines.assertMatches(reference(120), lines);
    }

    @Test
    void evaluatorThreadsGiveTheSameResultsAndStopWithTheOperator() throws Exception {
        long before = matrixThreads();
        List<String> lines;
        try (var h = harness(64, 2)) {
            h.open();
            assertEquals(before + 1, matrixThreads(), "one worker besides the task thread");
            for (long i = 0; i < 200; i++) {
                h.processElement(i, i);
            }
            h.prepareSnapshotPreBarrier(1);
            lines = results(h.getOutput());
        }
        ResultLines.assertMatches(reference(200), lines);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (matrixThreads() > before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(before, matrixThreads(), "the worker stops when the operator closes");
    }

    private static long matrixThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("rwkv-matmul-")).count();
    }
}
