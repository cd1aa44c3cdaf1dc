package dev.flinkrwkv.jobs.generate;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.JobArgs;
import dev.flinkrwkv.jobs.cli.OperatorArgs;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.runtime.JobLauncher;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.operator.GenerateOptions;
import dev.flinkrwkv.sample.SamplerOptions;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code generate}: the {@link GenerateJob} from the command line: the shared job options ({@link JobArgs})
 * plus the model, the sampler, the token limit, a stop sequence and the seed.
 */
public final class GenerateCommand implements Command {
    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "streaming job: continue each session's conversation from its prompts (Kafka or files, exactly once)";
    }

    @Override
    public String usage() {
        return "--model MODEL.bin [--max-tokens 64] [--temperature 0.8 | --greedy] [--top-k 0] [--top-p 0.9]"
                + " [--stop TEXT] [--seed 0] " + OperatorArgs.USAGE + " " + JobArgs.USAGE;
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws IOException {
        Path model = a.path("model");
        GenerateOptions options = options(a);
        // a cheap check in the client (header and tensor table), so that a wrong model fails here, not in every task
        int vocab = ModelFile.open(model).vocab();
        if (vocab != 256) {
            throw new IllegalArgumentException(model + " has a vocabulary of " + vocab
                    + " tokens; generate needs a byte-level model (256)");
        }
        JobLauncher.run(JobArgs.parse(name(), a),
                new GenerateJob(model.toAbsolutePath().toString(), options, OperatorArgs.parse(a)), out);
        return 0;
    }

    static GenerateOptions options(Args a) {
        SamplerOptions sampler;
        try {
            sampler = a.flag("greedy") ? SamplerOptions.greedy()
                    : new SamplerOptions(a.number("temperature", 0.8), a.integer("top-k", 0), a.number("top-p", 0.9));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int max = a.integer("max-tokens", 64);
        if (max < 1) {
            throw new UsageException("--max-tokens must be at least 1, got " + max);
        }
        GenerateOptions o = GenerateOptions.defaults().sampler(sampler).maxNewTokens(max).seed(a.longValue("seed", 0));
        if (a.has("stop")) {
            String stop = unescape(a.string("stop"));
            if (stop.isEmpty()) {
                throw new UsageException("--stop must not be empty");
            }
            byte[] b = stop.getBytes(StandardCharsets.UTF_8);
            int[] tokens = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                tokens[i] = b[i] & 0xFF;
            }
            o = o.stopAt(tokens);
        }
        return o;
    }

    /** {@code \n}, {@code \t} and {@code \\} in a stop sequence given on the command line. */
    static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
