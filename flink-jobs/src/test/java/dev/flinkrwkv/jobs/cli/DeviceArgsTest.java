package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.jobs.runtime.JobRuns;
import dev.flinkrwkv.operator.RwkvOperatorConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * {@code --device auto|cpu|cuda} in every command that evaluates the model: parsed (auto by default), passed to
 * the operator, a bad name a usage error, {@code cuda} without a GPU one line at the start.
 */
class DeviceArgsTest {
    static final String MODEL = Shared.tinyModel("tiny-rwkv-4v0-660K-FP32.bin").toString();

    private static Device parse(String... argv) {
        return DeviceArgs.parse(Args.parse(argv, 0));
    }

    @Test
    void autoByDefaultAndEachNameParses() {
        assertEquals(Device.AUTO, parse("--model", "m.bin"));
        assertEquals(Device.CPU, parse("--device", "cpu"));
        assertEquals(Device.AUTO, parse("--device=AUTO"));
        assertEquals(Device.AUTO, OperatorArgs.parse(Args.parse(new String[0], 0)).device());
    }

    @Test
    void anUnknownNameIsAUsageError() {
        assertEquals("--device: unknown device 'gpu'; expected auto, cpu or cuda",
                assertThrows(UsageException.class, () -> parse("--device", "gpu")).getMessage());
    }

    @Test
    void cudaWithoutAGpuFailsInOneLine() {
        assumeFalse(Backends.cudaAvailable(), "a CUDA GPU is present");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> parse("--device", "cuda"));
        assertEquals("--device cuda, but no usable CUDA GPU: " + Backends.cudaStatus()
                + " (use --device auto to fall back to the CPU)", e.getMessage());
    }

    @Test
    void theDeviceReachesTheOperatorConfiguration() {
        RwkvOperatorConfig<String> c = OperatorArgs.parse(Args.parse(new String[] {"--device", "cpu"}, 0))
                .applyTo(RwkvOperatorConfig.<String>builder()).model("m.bin").text(s -> s).build();
        assertEquals(Device.CPU, c.device());
    }

    /** Each command's arguments, all it needs but the device (the input and outputs in {@code dir}). */
    private static String[] argv(String command, Path dir, String device) throws Exception {
        Path log = dir.resolve("in.log");
        Files.writeString(log, "a line\nanother line\n");
        String in = log.toString(), out = dir.resolve("out").toString();
        String[] args = switch (command) {
            case "eval" -> new String[] {"--model", MODEL, "--input", in, "--logprobs", dir.resolve("lp.f32").toString()};
            case "bench", "operator-bench" -> new String[] {"--model", MODEL};
            case "eval-logs" -> new String[] {"--model", MODEL, "--input", in, "--scorer", "rwkv"};
            case "enrich" -> new String[] {"--model", MODEL, "--text-field", "msg", "--input", in, "--output-dir", out};
            default -> new String[] {"--model", MODEL, "--input", in, "--output-dir", out};
        };
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(command));
        all.addAll(java.util.List.of(args));
        all.add("--device");
        all.add(device);
        return all.toArray(new String[0]);
    }

    /** Every command that evaluates the model takes --device: a bad name is a usage error naming it. */
    @ParameterizedTest
    @ValueSource(strings = {"eval", "bench", "score-logs", "enrich", "generate", "eval-logs", "operator-bench"})
    void everyCommandTakesDevice(String command) throws Exception {
        JobRuns.Result r = JobRuns.main(argv(command, Files.createTempDirectory("device-args"), "gpu"));
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().startsWith("flink-rwkv " + command + ": --device: unknown device 'gpu'; expected auto, cpu or cuda\n"),
                r.err());
        assertTrue(r.err().contains("[--device auto|cpu|cuda]") || r.err().contains("[--device D]"), r.err());
    }

    /** ... and with cuda where there is no GPU, stops at once with one line (exit 1), before any work. */
    @ParameterizedTest
    @ValueSource(strings = {"eval", "bench", "score-logs", "enrich", "generate", "eval-logs", "operator-bench"})
    void everyCommandStopsAtCudaWithoutAGpu(String command) throws Exception {
        assumeFalse(Backends.cudaAvailable(), "a CUDA GPU is present");
        Path dir = Files.createTempDirectory("device-args");
        JobRuns.Result r = JobRuns.main(argv(command, dir, "cuda"));
        assertEquals(1, r.exit(), r.err());
        assertEquals("flink-rwkv " + command + ": --device cuda, but no usable CUDA GPU: " + Backends.cudaStatus()
                + " (use --device auto to fall back to the CPU)\n", r.err());
        assertFalse(Files.exists(dir.resolve("lp.f32")), "eval wrote nothing");
        assertFalse(Files.exists(dir.resolve("out")), "no job ran");
    }
}
