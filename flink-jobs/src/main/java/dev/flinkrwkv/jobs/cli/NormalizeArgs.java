package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.jobs.logs.FitInfo;
import dev.flinkrwkv.jobs.logs.LineNormalizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * {@code --normalize none|digits}, what a log line goes through before the model reads it. {@code fit} takes it
 * and records it in the model's {@link FitInfo}; eval-logs and score-logs apply what the model was fitted to
 * unless told otherwise, so that scoring sees lines as training did.
 */
public final class NormalizeArgs {
    public static final String USAGE = "[--normalize none|digits]";

    private NormalizeArgs() {}

    /** {@code --normalize} as given (none without it). */
    public static LineNormalizer parse(Args a) {
        try {
            return LineNormalizer.parse(a.string("normalize", LineNormalizer.NONE.label()));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--normalize: " + e.getMessage());
        }
    }

    /**
     * For scoring with {@code model}: {@code --normalize} if given (a warning on {@code err} where it is not what
     * the model was fitted to), else the model's own ({@link FitInfo}; none for a model without one).
     */
    public static LineNormalizer forModel(Args a, Path model, PrintStream err) throws IOException {
        LineNormalizer fitted = FitInfo.normalizerOf(model);
        if (!a.has("normalize")) {
            return fitted;
        }
        LineNormalizer given = parse(a);
        if (given != fitted) {
            err.printf("warning: --normalize %s, but %s says the model was fitted to lines normalized '%s'%n",
                    given.label(), FitInfo.pathFor(model).getFileName(), fitted.label());
        }
        return given;
    }
}
