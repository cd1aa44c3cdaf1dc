package dev.flinkrwkv.jobs.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.function.IntSupplier;

/**
 * Running a {@link Command} as a program. A user's mistake (a bad option, a missing or corrupt file) prints one
 * clear line on stderr and a non-zero exit code; stack traces are kept for bugs. Knows no command: the list of
 * commands is {@code dev.flinkrwkv.jobs.Main}'s, and a job class's {@code main} passes its own command.
 */
public final class CommandLine {
    private CommandLine() {}

    /** Runs {@code c} with the options {@code argv[from..]}; returns the exit code (0 ok, 1 failure, 2 usage). */
    public static int run(Command c, String[] argv, int from, PrintStream out, PrintStream err) {
        try {
            Args args = Args.forUsage(argv, from, c.usage());
            if (args.flag("help")) {
                out.println("usage: flink-rwkv " + c.name() + " " + c.usage());
                return 0;
            }
            return c.run(args, out, err);
        } catch (UsageException e) {
            err.println("flink-rwkv " + c.name() + ": " + e.getMessage());
            err.println("usage: flink-rwkv " + c.name() + " " + c.usage());
            return 2;
        } catch (IOException | UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            err.println("flink-rwkv " + c.name() + ": " + e.getMessage());
            return 1;
        }
    }

    /**
     * A program's {@code main}: checks that Flink is on the class path, picks the logging configuration, runs
     * {@code program} and exits with its code.
     */
    public static void exit(IntSupplier program) {
        if (!flinkOnClassPath()) {
            // flink-rwkv-job.jar run with java -jar: without this, the first Flink class would fail with a stack trace.
            System.err.println("flink-rwkv: Flink is not on the class path: flink-rwkv-job.jar is for flink run on a"
                    + " Flink cluster; for the command line use flink-rwkv.jar (bin/flink-rwkv)");
            System.exit(2);
        }
        // Our logging configuration (Flink and Kafka internals at WARN), unless the user or `flink run` set one;
        // by name, since a Kafka jar on the class path carries a log4j2.yaml that log4j would prefer.
        if (System.getProperty("log4j2.configurationFile") == null && System.getProperty("log4j.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:flink-rwkv-log4j2.xml");
        }
        System.exit(program.getAsInt());
    }

    /**
     * The {@code main} of a job class, for {@code flink run -c JobClass flink-rwkv.jar ARGS}: runs its command
     * with ARGS as that command's options.
     */
    public static void exit(Command c, String[] args) {
        exit(() -> run(c, args, 0, System.out, System.err));
    }

    private static boolean flinkOnClassPath() {
        try {
            Class.forName("org.apache.flink.streaming.api.environment.StreamExecutionEnvironment", false,
                    CommandLine.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
