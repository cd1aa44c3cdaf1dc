package dev.flinkrwkv.jobs.generate;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.JobArgs;
import dev.flinkrwkv.jobs.cli.ModelTokenizer;
import dev.flinkrwkv.jobs.cli.OperatorArgs;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.runtime.JobLauncher;
import dev.flinkrwkv.operator.GenerateOptions;
import dev.flinkrwkv.sample.SamplerOptions;

import java.io.IOException;
import java.io.PrintStream;

/**
 * {@code generate}: the {@link GenerateJob} from the command line: the shared job options ({@link JobArgs})
 * plus the model and its tokenizer, the prompt template, the sampler, the token limit, a stop text and the seed.
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
        return "--model MODEL " + ModelTokenizer.USAGE + " [--template none|chat] [--max-tokens 64]"
                + " [--temperature 0.8 | --greedy] [--top-k 0] [--top-p 0.9]"
                + " [--stop TEXT] [--seed 0] " + OperatorArgs.USAGE + " " + JobArgs.USAGE;
    }

    @Override
    public int run(Args a, PrintStream out, PrintStream err) throws IOException {
        PromptTemplate template;
        try {
            template = PromptTemplate.named(a.string("template", "none"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        GenerateOptions options = options(a, template);
        // a cheap check in the client (header and tensor table), so that a wrong model or tokenizer fails here,
        // not in every task
        ModelTokenizer mt = ModelTokenizer.of(a);
        out.println(mt.describe());
        JobLauncher.run(JobArgs.parse(name(), a), new GenerateJob(mt.model().toAbsolutePath().toString(), mt.tokenizer(),
                template, options, OperatorArgs.parse(a)), out);
        return 0;
    }

    static GenerateOptions options(Args a) {
        return options(a, PromptTemplate.NONE);
    }

    static GenerateOptions options(Args a, PromptTemplate template) {
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
            o = o.stopAtText(stop);
        }
        if (template.stopText() != null) {
            o = o.stopAtText(template.stopText());
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
