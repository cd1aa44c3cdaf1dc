package dev.flinkrwkv.jobs.tools;

import dev.flinkrwkv.rwkv.RwkvSpec;
import dev.flinkrwkv.jobs.Main;
import dev.flinkrwkv.jobs.Shared;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.Tensor;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.rwkv.RwkvModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code convert}: an official checkpoint to an rwkv.cpp file, as rwkv.cpp's converter and quantizer write it. */
class ConvertCommandTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {}

    private static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The v6 fixture: the tiny 6v0-1m model's first 3 layers as a float32 .pth in BlinkDL's layout. */
    private static Path checkpoint() {
        return Shared.testData("pth").resolve("tiny-rwkv-6v0-1m-3L-fp32.pth");
    }

    @Test
    void convertToFp16WritesTheTensorsOfRwkvCppsFp16File() throws IOException {
        Path out = dir.resolve("m-fp16.bin");
        Result r = run("convert", "--model", checkpoint().toString(), "--type", "FP16", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("FP16"), r.out());
        ModelFile written = ModelFile.open(out);
        ModelFile rwkvCpp = ModelFile.open(Shared.tinyModel("tiny-rwkv-6v0-1m-FP16.bin"));
        assertEquals(3, written.layers());
        for (Tensor w : written.tensors().values()) {
            Tensor ref = rwkvCpp.tensor(w.name()); // the converter's FP16 file of the whole model
            assertEquals(ref.type(), w.type(), w.name());
            assertArrayEquals(ref.shape(), w.shape(), w.name());
            assertEquals(ref.data(), w.data(), w.name());
        }
    }

    @Test
    void convertToQ5_1QuantizesAsTheQuantizerDoes() throws IOException {
        Path out = dir.resolve("m-q5_1.bin");
        assertEquals(0, run("convert", "--model", checkpoint().toString(), "--type", "Q5_1", "--out", out.toString()).code());
        ModelFile q = ModelFile.open(out);
        for (Tensor t : q.tensors().values()) {
            assertEquals(Quantizer.quantizes(t.name(), t.dims(), RwkvSpec::keptUnquantizedByAnyVersion) ? TensorType.Q5_1 : TensorType.FP32, t.type(), t.name());
        }
        assertEquals(RwkvModel.load(checkpoint()).version(), RwkvModel.load(out).version());
    }

    @Test
    void infoReadsACheckpoint() {
        Result r = run("info", "--model", checkpoint().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("PyTorch checkpoint"), r.out());
        assertTrue(r.out().contains("RWKV 6.0"), r.out());
    }

    @Test
    void aBrokenCheckpointIsOneLineOnStderr() {
        Path bad = Shared.testData("pth").resolve("bad").resolve("os-system.pth");
        Result r = run("convert", "--model", bad.toString(), "--type", "FP16", "--out", dir.resolve("x.bin").toString());
        assertTrue(r.code() != 0);
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("posix.system"), r.err());
    }
}
