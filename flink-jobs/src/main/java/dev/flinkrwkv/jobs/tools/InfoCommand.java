package dev.flinkrwkv.jobs.tools;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.rwkv.RwkvModel;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;

/** {@code info --model M}: what a model file holds. */
public final class InfoCommand implements Command {
    @Override
    public String name() {
        return "info";
    }

    @Override
    public String summary() {
        return "version, dimensions, storage types and state size of a model file or checkpoint";
    }

    @Override
    public String usage() {
        return "--model MODEL.bin|MODEL.pth|MODEL.safetensors";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        RwkvModel m = RwkvModel.load(args.path("model"));
        StringBuilder types = new StringBuilder();
        for (Map.Entry<TensorType, Integer> e : m.storageTypes().entrySet()) {
            types.append(types.length() == 0 ? "" : ", ").append(e.getKey()).append(" (").append(e.getValue())
                    .append(" tensors)");
        }
        out.printf("file:          %s (%,d bytes, %s)%n", m.file().path(), m.file().size(),
                m.file().format().equals("rwkv.cpp") ? "format version " + m.file().fileVersion() : m.file().format());
        out.printf("version:       RWKV %s%n", m.version());
        out.printf("vocabulary:    %d%n", m.vocab());
        out.printf("embedding:     %d%n", m.embed());
        out.printf("layers:        %d%n", m.layers());
        out.printf("heads:         %s%n", m.heads() == 0 ? "none (v4)" : m.heads() + " of size " + m.embed() / m.heads());
        out.printf("ffn size:      %d%n", m.ffnSize());
        out.printf("storage types: %s%n", types);
        out.printf("parameters:    %,d%n", m.parameterCount());
        out.printf("state size:    %,d bytes (%,d float32)%n", 4L * m.stateSize(), m.stateSize());
        out.printf("weights read per token: %,d bytes%n", m.weightBytesPerToken());
        out.printf("fingerprint:   %s%n", m.file().fingerprint());
        return 0;
    }
}
