package dev.flinkrwkv.jobs;

import dev.flinkrwkv.jobs.bench.BenchCommand;
import dev.flinkrwkv.jobs.bench.OperatorBenchCommand;
import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.demo.DemoCommand;
import dev.flinkrwkv.jobs.enrich.EnrichCommand;
import dev.flinkrwkv.jobs.evallogs.EvalLogsCommand;
import dev.flinkrwkv.jobs.fit.FitCommand;
import dev.flinkrwkv.jobs.generate.GenerateCommand;
import dev.flinkrwkv.jobs.scorelogs.ScoreLogsCommand;
import dev.flinkrwkv.jobs.tools.ConvertCommand;
import dev.flinkrwkv.jobs.tools.DetokenizeCommand;
import dev.flinkrwkv.jobs.tools.EvalCommand;
import dev.flinkrwkv.jobs.tools.InfoCommand;
import dev.flinkrwkv.jobs.tools.InitModelCommand;
import dev.flinkrwkv.jobs.tools.TokenizeCommand;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The flink-rwkv command line: {@code java -jar flink-rwkv.jar COMMAND [--option value ...]}.
 * A user's mistake (a bad option, a missing or corrupt file) prints one clear line on stderr and exits
 * non-zero; stack traces are kept for bugs.
 */
public final class Main {
    private Main() {}

    /** Every command, in the order {@code help} lists them. */
    static Map<String, Command> commands() {
        Map<String, Command> m = new LinkedHashMap<>();
        for (Command c : new Command[] {
                new InfoCommand(),
                new EvalCommand(),
                new BenchCommand(),
                ConvertCommand.quantize(),
                ConvertCommand.convert(),
                new InitModelCommand(),
                new FitCommand(),
                new EvalLogsCommand(),
                new OperatorBenchCommand(),
                new ScoreLogsCommand(),
                new EnrichCommand(),
                new DemoCommand(),
                new GenerateCommand(),
                new TokenizeCommand(),
                new DetokenizeCommand(),
        }) {
            m.put(c.name(), c);
        }
        return m;
    }

    /**
     * Runs one command as a program's whole command line: the {@code main} of a job class, for
     * {@code flink run -c JobClass flink-rwkv.jar ARGS}, is {@code Main.mainFor("job-command", ARGS)}.
     */
    public static void mainFor(String command, String[] args) {
        String[] argv = new String[args.length + 1];
        argv[0] = command;
        System.arraycopy(args, 0, argv, 1, args.length);
        main(argv);
    }

    public static void main(String[] argv) {
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
        System.exit(run(argv, System.out, System.err));
    }

    private static boolean flinkOnClassPath() {
        try {
            Class.forName("org.apache.flink.streaming.api.environment.StreamExecutionEnvironment", false, Main.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Runs a command line; returns the exit code (0 ok, 1 failure, 2 usage). */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        Map<String, Command> commands = commands();
        if (argv.length == 0 || argv[0].equals("help") || argv[0].equals("--help") || argv[0].equals("-h")) {
            usage(commands, argv.length == 0 ? err : out);
            return argv.length == 0 ? 2 : 0;
        }
        Command c = commands.get(argv[0]);
        if (c == null) {
            err.println("flink-rwkv: unknown command '" + argv[0] + "'; run 'help' for the list");
            return 2;
        }
        try {
            Args args = Args.forUsage(argv, 1, c.usage());
            if (args.flag("help")) {
                out.println("usage: flink-rwkv " + c.name() + " " + c.usage());
                return 0;
            }
            return c.run(args, out, err);
        } catch (UsageException e) {
            err.println("flink-rwkv " + c.name() + ": " + e.getMessage());
            err.println("usage: flink-rwkv " + c.name() + " " + c.usage());
            return 2;
        } catch (java.io.IOException | java.io.UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            err.println("flink-rwkv " + c.name() + ": " + e.getMessage());
            return 1;
        }
    }

    private static void usage(Map<String, Command> commands, PrintStream s) {
        s.println("usage: java -jar flink-rwkv.jar COMMAND [options]   (COMMAND --help for its options)");
        s.println();
        for (Command c : commands.values()) {
            s.printf("  %-12s %s%n", c.name(), c.summary());
        }
    }
}
