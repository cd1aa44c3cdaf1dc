package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code eval}: feeds a file's bytes as tokens from the initial state and writes the log-prob of each next
 * byte, and optionally the last logits and the last state, as little-endian float32 files.
 */
public final class EvalCommand implements Command {
    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "feed a file's bytes; write per-byte log-probs, last logits and state (float32)";
    }

    @Override
    public String usage() {
        return "--model MODEL.bin --input FILE --logprobs OUT.f32 [--last-logits OUT.f32] [--state OUT.f32]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Path modelPath = args.path("model");
        Path input = args.path("input");
        Path lpOut = args.path("logprobs");
        RwkvModel m = RwkvModel.load(modelPath);
        if (m.vocab() != 256) {
            throw new UsageException("eval feeds bytes as tokens, which needs a byte-level model (vocabulary 256); "
                    + modelPath + " has a vocabulary of " + m.vocab());
        }
        if (!Files.isRegularFile(input)) {
            throw new IOException("input " + input + " is not a readable file");
        }
        byte[] bytes = Files.readAllBytes(input);
        if (bytes.length == 0) {
            throw new IOException("input " + input + " is empty: there is nothing to evaluate");
        }
        RwkvEvaluator ev = m.newEvaluator();
        RwkvState state = m.initialState();
        float[] logits = new float[m.vocab()];
        float[] logProbs = new float[bytes.length - 1];
        double sum = 0;
        for (int i = 0; i < bytes.length; i++) {
            int token = bytes[i] & 0xFF;
            if (i > 0) {
                logProbs[i - 1] = (float) LogProbs.of(logits, 0, m.vocab(), token);
                sum += logProbs[i - 1];
            }
            ev.step(state, token, logits);
        }
        FloatFiles.write(lpOut, logProbs, logProbs.length);
        if (args.has("last-logits")) {
            FloatFiles.write(args.path("last-logits"), logits, logits.length);
        }
        if (args.has("state")) {
            FloatFiles.write(args.path("state"), state.data(), state.size());
        }
        double bitsPerByte = logProbs.length == 0 ? 0 : -sum / logProbs.length / Math.log(2);
        out.printf("%d tokens, mean log-prob %.4f nats (%.3f bits per byte)%n", bytes.length,
                logProbs.length == 0 ? 0 : sum / logProbs.length, bitsPerByte);
        return 0;
    }
}
