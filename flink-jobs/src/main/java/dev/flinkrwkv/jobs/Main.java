package dev.flinkrwkv.jobs;

import dev.flinkrwkv.jobs.bench.BenchCommand;
import dev.flinkrwkv.jobs.bench.OperatorBenchCommand;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.CommandLine;
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
 * The flink-rwkv command line: {@code java -jar flink-rwkv.jar COMMAND [--option value ...]}. The list of
 * commands below is the one place a command is registered; each lives in its job's package, and
 * {@link CommandLine} runs it.
 */
public final class Main {
    private Main() {}

    /** Every command, in the order {@code help} lists them. */
    static Map<String, Command> commands() {
        Map<String, Command> m = new LinkedHashMap<>();
        Command fit = new FitCommand();
        Command scoreLogs = new ScoreLogsCommand();
        for (Command c : new Command[] {
                new InfoCommand(),
                new EvalCommand(),
                new BenchCommand(),
                ConvertCommand.quantize(),
                ConvertCommand.convert(),
                new InitModelCommand(),
                fit,
                new EvalLogsCommand(),
                new OperatorBenchCommand(),
                scoreLogs,
                new EnrichCommand(),
                new DemoCommand(fit, scoreLogs),
                new GenerateCommand(),
                new TokenizeCommand(),
                new DetokenizeCommand(),
        }) {
            m.put(c.name(), c);
        }
        return m;
    }

    public static void main(String[] argv) {
        CommandLine.exit(() -> run(argv, System.out, System.err));
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
        return CommandLine.run(c, argv, 1, out, err);
    }

    private static void usage(Map<String, Command> commands, PrintStream s) {
        s.println("usage: java -jar flink-rwkv.jar COMMAND [options]   (COMMAND --help for its options)");
        s.println();
        for (Command c : commands.values()) {
            s.printf("  %-12s %s%n", c.name(), c.summary());
        }
    }
}
