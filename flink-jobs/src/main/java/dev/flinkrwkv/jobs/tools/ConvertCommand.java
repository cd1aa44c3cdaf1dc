package dev.flinkrwkv.jobs.tools;

import dev.flinkrwkv.rwkv.RwkvSpec;
import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.model.Quantizer;
import dev.flinkrwkv.model.TensorType;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * {@code convert} and {@code quantize --model IN --type T --out OUT}: a model in any format the loader reads
 * (an rwkv.cpp file, an official PyTorch or safetensors checkpoint) written as an rwkv.cpp file of any storage
 * type, as rwkv.cpp's converter and quantizer would write it (BF16 files are read by flink-rwkv only). Two names for one job: {@code convert} for
 * checkpoints, {@code quantize} as rwkv.cpp calls it.
 */
public final class ConvertCommand implements Command {
    private final String name;
    private final String summary;

    private ConvertCommand(String name, String summary) {
        this.name = name;
        this.summary = summary;
    }

    public static ConvertCommand convert() {
        return new ConvertCommand("convert", "an official .pth or safetensors checkpoint (or any model file) to an "
                + "rwkv.cpp file: FP32, FP16, BF16, Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0");
    }

    public static ConvertCommand quantize() {
        return new ConvertCommand("quantize", "convert an FP32/FP16/BF16 model to Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 "
                + "(as rwkv.cpp does), FP16, BF16 or FP32");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String summary() {
        return summary;
    }

    @Override
    public String usage() {
        return "--model IN.pth|IN.safetensors|IN.bin --type Q4_0|Q4_1|Q5_0|Q5_1|Q8_0|FP16|BF16|FP32 --out OUT.bin";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Path in = args.path("model");
        TensorType type = TensorType.parse(args.string("type"));
        Path dest = args.path("out");
        long t0 = System.nanoTime();
        Quantizer.Result r = Quantizer.convert(in, dest, type, RwkvSpec::keptUnquantizedByAnyVersion);
        double seconds = (System.nanoTime() - t0) / 1e9;
        out.printf("%s -> %s: %s, %d of %d tensors converted, %,d -> %,d bytes in %.2f s%n", in, dest, type,
                r.converted(), r.tensors(), r.inputBytes(), r.outputBytes(), seconds);
        return 0;
    }
}
