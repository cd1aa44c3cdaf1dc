package dev.flinkrwkv.jobs.cli;

import java.io.IOException;
import java.io.PrintStream;

/** One subcommand of the command line. */
public interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** The options, e.g. {@code --model M [--threads N]}. */
    String usage();

    /** Runs it; returns the exit code. Throw {@link UsageException} for bad options, IOException for files. */
    int run(Args args, PrintStream out, PrintStream err) throws IOException;
}
