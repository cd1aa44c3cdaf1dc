package dev.flinkrwkv.jobs.enrich;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.JobArgs;
import dev.flinkrwkv.jobs.cli.ModelTokenizer;
import dev.flinkrwkv.jobs.cli.OperatorArgs;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.runtime.JobLauncher;
import dev.flinkrwkv.jobs.runtime.JobOptions;
import dev.flinkrwkv.jobs.runtime.OperatorSettings;

import java.io.IOException;
import java.io.PrintStream;

/**
 * {@code enrich}: JSON records in, the same records out with the model's view of a text field added
 * ({@link EnrichJob}). Options and model are checked before anything starts.
 */
public final class EnrichCommand implements Command {
    @Override
    public String name() {
        return "enrich";
    }

    @Override
    public String summary() {
        return "add a text field's surprisal and the top-k next tokens, given the key's history, to JSON records";
    }

    @Override
    public String usage() {
        return "--model MODEL " + ModelTokenizer.USAGE + " --text-field F [--key-field F] [--top-k 5] [--field " + Enrichment.DEFAULT_FIELD + "] "
                + OperatorArgs.USAGE + " " + JobArgs.USAGE;
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        if (!args.has("text-field")) {
            throw new UsageException("enrich reads JSON records: give --text-field, the field with the text");
        }
        int k = args.integer("top-k", 5);
        if (k < 1 || k > 1000) {
            throw new UsageException("--top-k must be between 1 and 1000, got " + k);
        }
        String field = args.string("field", Enrichment.DEFAULT_FIELD);
        if (field.isEmpty()) {
            throw new UsageException("--field must not be empty");
        }
        JobOptions o = JobArgs.parse(name(), args);
        OperatorSettings operator = OperatorArgs.parse(args);
        ModelTokenizer mt = ModelTokenizer.of(args);
        if (k > mt.tokenizer().vocab()) {
            throw new UsageException("--top-k must be at most the vocabulary, " + mt.tokenizer().vocab() + ", got " + k);
        }
        EnrichJob job = new EnrichJob(mt.model().toAbsolutePath().toString(), mt.tokenizer(), k, field, operator);
        out.println(mt.describe());
        JobLauncher.run(o, job, out);
        return 0;
    }
}
