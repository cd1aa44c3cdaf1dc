package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.TensorType;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * {@code quantize --model IN --type T --out OUT}: an FP32/FP16/BF16 model file in another storage type, as
 * rwkv.cpp quantizes (BF16 files are read by flink-rwkv only).
 */
public final class QuantizeCommand implements Command {
    @Override
    public String name() {
        return "quantize";
    }

    @Override
    public String summary() {
        return "convert an FP32/FP16/BF16 model to Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (as rwkv.cpp does), FP16, BF16 or FP32";
    }

    @Override
    public String usage() {
        return "--model IN.bin --type Q4_0|Q4_1|Q5_0|Q5_1|Q8_0|FP16|BF16|FP32 --out OUT.bin";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Path in = args.path("model");
        TensorType type = TensorType.parse(args.string("type"));
        Path dest = args.path("out");
        long t0 = System.nanoTime();
        Quantizer.Result r = Quantizer.convert(in, dest, type);
        double seconds = (System.nanoTime() - t0) / 1e9;
        out.printf("%s -> %s: %s, %d of %d tensors converted, %,d -> %,d bytes in %.2f s%n", in, dest, type,
                r.converted(), r.tensors(), r.inputBytes(), r.outputBytes(), seconds);
        return 0;
    }
}
