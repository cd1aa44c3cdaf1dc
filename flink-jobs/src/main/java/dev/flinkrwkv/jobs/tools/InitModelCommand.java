package dev.flinkrwkv.jobs.tools;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.rwkv.RandomModel;
import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.model.TensorType;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * {@code init-model}: a model file of any version and shape with seeded random weights, for benchmarks and
 * tests at real sizes (e.g. {@code --version 4 --layers 12 --embed 768 --vocab 50277} is 169M-shaped).
 */
public final class InitModelCommand implements Command {
    @Override
    public String name() {
        return "init-model";
    }

    @Override
    public String summary() {
        return "write a model file of any version and shape with seeded random weights";
    }

    @Override
    public String usage() {
        return "--version 4|5.1|5.2|6|7 --layers L --embed C --vocab N --out FILE.bin [--type FP32|FP16|Q4_0|...]"
                + " [--seed S] [--ffn F] [--head-size S]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        RwkvVersion version = RwkvVersion.parse(args.string("version"));
        int layers = required(args, "layers");
        int embed = required(args, "embed");
        int vocab = required(args, "vocab");
        Path dest = args.path("out");
        TensorType type = TensorType.parse(args.string("type", "FP32"));
        long seed = args.longValue("seed", 1);
        RandomModel.Shape spec = RandomModel.Shape.of(version, layers, embed, vocab);
        if (args.has("ffn")) {
            spec = spec.withFfn(args.integer("ffn", 0));
        }
        if (args.has("head-size")) {
            spec = spec.withHeadSize(args.integer("head-size", 0));
        }
        long t0 = System.nanoTime();
        RandomModel.Result r = RandomModel.write(spec, type, seed, dest);
        double seconds = (System.nanoTime() - t0) / 1e9;
        out.printf("%s: RWKV %s, %d layers x %d, vocabulary %d, ffn %d%s, %s, seed %d: %,d parameters, %,d bytes in %.2f s%n",
                dest, version, layers, embed, vocab, spec.ffn(),
                version == RwkvVersion.V4 ? "" : ", " + spec.heads() + " heads of " + spec.headSize(),
                type, seed, r.parameters(), r.bytes(), seconds);
        return 0;
    }

    private static int required(Args args, String name) {
        args.string(name); // a usage error when missing
        return args.integer(name, 0);
    }
}
