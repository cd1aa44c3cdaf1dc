package dev.flinkrwkv.jobs.tools;

import dev.flinkrwkv.backend.Backend;
import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.DeviceArgs;
import dev.flinkrwkv.jobs.cli.ModelTokenizer;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code eval}: feeds a file from the initial state and writes the log-prob of each next token, and optionally the
 * last logits and the last state, as little-endian float32 files. {@code --text FILE} reads the file as UTF-8
 * text and tokenizes it ({@code --tokenizer}, by default the model's); {@code --input FILE} feeds the file's raw
 * bytes as tokens, any bytes, for byte-level models (vocabulary 256) only. {@code --device} picks the backend
 * (on a GPU the figures agree with the CPU's within float rounding).
 */
public final class EvalCommand implements Command {
    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "feed a text (tokenized) or a file's bytes; write per-token log-probs, last logits and state (float32)";
    }

    @Override
    public String usage() {
        return "--model MODEL (--text FILE " + ModelTokenizer.USAGE + " | --input FILE) --logprobs OUT.f32"
                + " [--last-logits OUT.f32] [--state OUT.f32] " + DeviceArgs.USAGE;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Device device = DeviceArgs.parse(args);
        if (args.has("text") == args.has("input")) {
            throw new UsageException("give one of --text FILE (tokenized text) and --input FILE (raw bytes as tokens)");
        }
        Path lpOut = args.path("logprobs");
        Path input = args.path(args.has("text") ? "text" : "input");
        if (!Files.isRegularFile(input)) {
            throw new IOException("input " + input + " is not a readable file");
        }
        byte[] bytes = Files.readAllBytes(input);
        int[] tokens;
        int firstTokenBytes = 1;
        RwkvModel m;
        if (args.has("text")) {
            ModelTokenizer mt = ModelTokenizer.of(args);
            tokens = mt.tokenizer().encode(new String(bytes, StandardCharsets.UTF_8));
            bytes = mt.tokenizer().decodeBytes(tokens); // what the tokens stand for (20B normalizes the text)
            firstTokenBytes = tokens.length > 0 ? mt.tokenizer().tokenLength(tokens[0]) : 0;
            m = RwkvModel.load(mt.model());
        } else {
            if (args.has("tokenizer")) {
                throw new UsageException("--input feeds raw bytes as tokens; use --text FILE to tokenize");
            }
            Path modelPath = args.path("model");
            m = RwkvModel.load(modelPath);
            if (m.vocab() != 256) {
                throw new UsageException("--input feeds bytes as tokens, which needs a byte-level model (vocabulary 256); "
                        + modelPath + " has a vocabulary of " + m.vocab() + ": use --text FILE");
            }
            tokens = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                tokens[i] = bytes[i] & 0xFF;
            }
        }
        if (tokens.length == 0) {
            throw new IOException("input " + input + " is empty: there is nothing to evaluate");
        }
        RwkvState state = m.initialState();
        int vocab = m.vocab();
        float[] logits = new float[vocab];
        float[] logProbs = new float[tokens.length - 1];
        double sum = 0;
        // runs of tokens in sequence mode, the logits after each: at most 8 MiB of them at once
        int run = Math.max(1, (2 << 20) / vocab);
        float[] runLogits = new float[Math.min(run, tokens.length) * vocab];
        try (Backend backend = Backends.open(device, m)) {
            for (int from = 0; from < tokens.length; from += run) {
                int n = Math.min(run, tokens.length - from);
                backend.stepSequence(state, tokens, from, n, runLogits);
                for (int j = 0; j < n; j++) {
                    int next = from + j + 1;
                    if (next < tokens.length) {
                        logProbs[next - 1] = (float) LogProbs.of(runLogits, j * vocab, vocab, tokens[next]);
                        sum += logProbs[next - 1];
                    }
                }
                System.arraycopy(runLogits, (n - 1) * vocab, logits, 0, vocab);
            }
        }
        FloatFiles.write(lpOut, logProbs, logProbs.length);
        if (args.has("last-logits")) {
            FloatFiles.write(args.path("last-logits"), logits, logits.length);
        }
        if (args.has("state")) {
            FloatFiles.write(args.path("state"), state.data(), state.size());
        }
        int n = logProbs.length;
        // every token but the first is predicted; bits per byte of what they stand for compares across tokenizers
        int scoredBytes = bytes.length - firstTokenBytes;
        out.printf("%d tokens, mean log-prob %.4f nats (%.3f bits per token, %.3f bits per byte)%n", tokens.length,
                n == 0 ? 0 : sum / n, n == 0 ? 0 : -sum / n / Math.log(2),
                scoredBytes <= 0 ? 0 : -sum / scoredBytes / Math.log(2));
        return 0;
    }
}
