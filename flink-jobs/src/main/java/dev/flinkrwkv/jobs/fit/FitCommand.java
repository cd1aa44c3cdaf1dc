package dev.flinkrwkv.jobs.fit;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.NormalizeArgs;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.jobs.logs.FitInfo;
import dev.flinkrwkv.jobs.logs.LeaveOut;
import dev.flinkrwkv.jobs.logs.LineNormalizer;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.train.LearningRateSchedule;
import dev.flinkrwkv.train.Rwkv7Shape;
import dev.flinkrwkv.train.Rwkv7Trainer;
import dev.flinkrwkv.train.TrainingData;
import dev.flinkrwkv.train.WeightAverage;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code fit}: trains a small byte-level RWKV-7 on the user's own text on the CPU and writes it as an
 * rwkv.cpp model file that {@code eval} and the operator load like any other: FP32, or with {@code --type}
 * any other storage type, encoded as {@code quantize} would encode the FP32 file (the trainer writes through
 * the shared model writer and quantizer rules; checkpoints keep full precision).
 *
 * <p>The run is bounded by {@code --steps} (reproducible: same seed, data, options and thread count give
 * the same model) and/or {@code --minutes} (the learning-rate decay then follows the clock). A checkpoint
 * is written every {@code --checkpoint-every} steps and at the end; {@code --resume} continues from it
 * with the shape and batch settings it holds.
 */
public final class FitCommand implements Command {
    @Override
    public String name() {
        return "fit";
    }

    @Override
    public String summary() {
        return "train a small byte-level RWKV-7 on your own text (CPU), write an rwkv.cpp model (FP32 or quantized)";
    }

    @Override
    public String usage() {
        return "--input FILE[,FILE...] (repeatable) --out MODEL.bin [--steps N | --minutes M] [--version 7] [--layers 2] [--embed 64]"
                + " [--head-size 32] [--context 64] [--batch 8] [--lr 2e-3] [--warmup STEPS] [--clip 1.0]"
                + " [--seed 1] [--threads CPUS] [--holdout-fraction 0.05] [--checkpoint OUT.ckpt]"
                + " [--checkpoint-every 200] [--resume] [--log-every 10] [--eval-every 100] [--eval-bytes 65536]"
                + " [--type FP32|FP16|Q8_0|Q5_1|Q5_0|Q4_1|Q4_0] " + NormalizeArgs.USAGE + " [--weight-decay 0]"
                + " [--average-weights DECAY] [--leave-out I/K]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        List<Path> inputs = new ArrayList<>();
        for (String s : args.strings("input")) {
            inputs.add(Paths.get(s));
        }
        if (inputs.isEmpty()) {
            throw new UsageException("missing --input (one or more text files to fit)");
        }
        Path outPath = args.path("out");
        int version = args.integer("version", 7);
        if (version != 7) {
            throw new UsageException("fit trains RWKV version 7 only (version " + version + " is not supported)");
        }
        TensorType type;
        try {
            type = TensorType.parse(args.string("type", "FP32"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--type: " + e.getMessage());
        }
        long steps = args.longValue("steps", 0);
        double minutes = args.number("minutes", 0);
        if (args.has("steps") && steps <= 0 || args.has("minutes") && !(minutes > 0)) {
            throw new UsageException("--steps and --minutes must be above 0");
        }
        int context = args.integer("context", 64);
        int batch = args.integer("batch", 8);
        double holdout = args.number("holdout-fraction", 0.05);
        if (holdout < 0 || holdout >= 1) {
            throw new UsageException("--holdout-fraction must be in [0, 1), got " + holdout);
        }
        LineNormalizer normalize = NormalizeArgs.parse(args);
        LeaveOut leaveOut = null;
        if (args.has("leave-out")) {
            try {
                leaveOut = LeaveOut.parse(args.string("leave-out"));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
        byte[] text = TrainingData.concatenate(inputs);
        long inputLines = LeaveOut.lines(text);
        if (leaveOut != null) {
            text = leaveOut.apply(text);
            out.printf(Locale.ROOT, "leaving out block %s of the %,d input lines: fitting %,d of them%n", leaveOut.label(),
                    inputLines, LeaveOut.lines(text));
        }
        TrainingData data = TrainingData.split(normalize.applyToLines(text), holdout);
        if (steps <= 0 && minutes <= 0 && !args.flag("resume")) {
            steps = defaultSteps(data.train().length, (long) context * batch);
            out.printf(Locale.ROOT, "fitting %d steps: about %d passes over the %,d training bytes at %d x %d bytes a step"
                            + " (--steps %d repeats this run; --steps N or --minutes M to choose)%n", steps, PASSES,
                    data.train().length, batch, context, steps);
        } else if (steps <= 0 && minutes <= 0) {
            throw new UsageException("--resume: give --steps N (the step to stop at) or --minutes M");
        }
        int threads = args.integer("threads", Runtime.getRuntime().availableProcessors());
        double lr = args.number("lr", 2e-3);
        double clip = args.number("clip", 1.0);
        int warmup = args.integer("warmup", steps > 0 ? (int) Math.max(1, Math.min(100, steps / 10)) : 50);
        int logEvery = args.integer("log-every", 10);
        int evalEvery = args.integer("eval-every", 100);
        int evalBytes = args.integer("eval-bytes", 65536);
        int checkpointEvery = args.integer("checkpoint-every", 200);
        Path checkpoint = args.has("checkpoint") ? args.path("checkpoint")
                : outPath.resolveSibling(outPath.getFileName() + ".ckpt");
        if (threads < 1 || holdout < 0 || holdout >= 1 || !(lr > 0) || logEvery < 1 || evalEvery < 1
                || evalBytes < 2 || warmup < 0) {
            throw new UsageException("--threads, --log-every, --eval-every must be >= 1, --eval-bytes >= 2,"
                    + " --holdout-fraction in [0, 1), --lr > 0, --warmup >= 0");
        }
        LearningRateSchedule schedule = new LearningRateSchedule(lr, 0.1, warmup);

        Rwkv7Trainer trainer;
        if (args.flag("resume")) {
            if (!Files.isRegularFile(checkpoint)) {
                throw new IOException("--resume: no checkpoint at " + checkpoint);
            }
            trainer = Rwkv7Trainer.resume(checkpoint, data, threads);
            out.printf("resuming from %s at step %d (shape and batch settings from the checkpoint)%n",
                    checkpoint, trainer.steps());
        } else {
            int embed = args.integer("embed", 64);
            Rwkv7Shape shape = Rwkv7Shape.of(embed, args.integer("layers", 2), args.integer("head-size", 32));
            Rwkv7Trainer.Settings settings = new Rwkv7Trainer.Settings(context, batch, threads);
            trainer = Rwkv7Trainer.create(shape, args.longValue("seed", 1), data, settings);
        }
        double weightDecay = args.number("weight-decay", 0);
        if (!(weightDecay >= 0) || weightDecay * lr >= 1) {
            throw new UsageException("--weight-decay must be >= 0 and below 1 / --lr, got " + weightDecay);
        }
        trainer.setWeightDecay(weightDecay);
        WeightAverage average = null;
        if (args.has("average-weights")) {
            double decay = args.number("average-weights", 0);
            if (!(decay > 0 && decay < 1)) {
                throw new UsageException("--average-weights takes a decay in (0, 1), e.g. 0.99, got " + decay);
            }
            average = new WeightAverage(decay, trainer.model().size());
        }
        try (trainer) {
            try {
                trainer.model().checkStorable(type); // before training, not after
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage() + " (choose --embed and --head-size accordingly)");
            }
            return fit(trainer, average, data, out, steps, minutes, schedule, clip, logEvery, evalEvery, evalBytes,
                    checkpointEvery, checkpoint, outPath, type, normalize, inputLines, leaveOut);
        }
    }

    /** How many passes over the training text a run without --steps or --minutes makes. */
    static final int PASSES = 2;
    static final long MIN_DEFAULT_STEPS = 200;
    static final long MAX_DEFAULT_STEPS = 2000;

    /**
     * The steps of a run given neither --steps nor --minutes: {@link #PASSES} passes over the text, within
     * [{@link #MIN_DEFAULT_STEPS}, {@link #MAX_DEFAULT_STEPS}]. A step budget, not a time budget, so that the same
     * command fits the same model on a busy machine and an idle one.
     */
    static long defaultSteps(long trainBytes, long bytesPerStep) {
        long steps = (PASSES * trainBytes + bytesPerStep - 1) / bytesPerStep;
        return Math.max(MIN_DEFAULT_STEPS, Math.min(MAX_DEFAULT_STEPS, steps));
    }

    /**
     * @param average with {@code --average-weights}: the moving average of the weights, which is what the held-out
     *     loss is measured on, the best-held-out copy keeps and the model file gets (the checkpoint keeps the live
     *     weights; a resumed run starts its average again from them); null without it
     */
    private static int fit(Rwkv7Trainer t, WeightAverage average, TrainingData data, PrintStream out, long steps, double minutes,
                           LearningRateSchedule schedule, double clip, int logEvery, int evalEvery, int evalBytes,
                           int checkpointEvery, Path checkpoint, Path outPath, TensorType type,
                           LineNormalizer normalize, long inputLines, LeaveOut leaveOut) throws IOException {
        Rwkv7Shape sh = t.model().shape();
        Rwkv7Trainer.Settings st = t.settings();
        out.printf(Locale.ROOT, "RWKV-7 %d layers x %d (%d heads of %d, FFN %d), %,d parameters; context %d,"
                        + " batch %d, %d thread(s)%n", sh.layers(), sh.embed(), sh.heads(), sh.headSize(), sh.ffn(),
                t.model().size(), st.context(), st.batch(), st.threads());
        out.printf(Locale.ROOT, "training on %,d bytes, holding out %,d%n", data.train().length, data.heldOut().length);
        if (average != null) {
            out.printf(Locale.ROOT, "the model is the moving average of the weights (decay %s): held-out losses are its%n",
                    average.decay());
        }
        double[] weights = t.model().values();
        boolean hasHeldOut = data.heldOut().length >= 2;
        long limitNanos = minutes > 0 ? (long) (minutes * 60e9) : Long.MAX_VALUE;
        long base = t.resumedElapsedNanos();
        long start = System.nanoTime();
        long firstStep = t.steps();
        double lossSum = 0;
        int lossCount = 0;
        double heldOut = Double.NaN;
        long stepNanos = 0; // the optimizer steps alone, without evaluations and checkpoints
        BestHeldOut best = new BestHeldOut();
        while (true) {
            long step = t.steps();
            long elapsed = base + (System.nanoTime() - start);
            if ((steps > 0 && step >= steps) || elapsed >= limitNanos) {
                break;
            }
            double progress = Math.max(steps > 0 ? (double) step / steps : 0,
                    minutes > 0 ? (double) elapsed / limitNanos : 0);
            double lr = schedule.rate(step, progress);
            long stepStart = System.nanoTime();
            Rwkv7Trainer.StepResult r = t.step(lr, clip);
            stepNanos += System.nanoTime() - stepStart;
            if (average != null) {
                average.update(weights);
            }
            lossSum += r.loss();
            lossCount++;
            best.trainLoss(r.loss());
            long done = step + 1;
            if (hasHeldOut && done % evalEvery == 0) {
                swapIn(average, weights);
                heldOut = t.evaluate(data.heldOut(), evalBytes);
                String warning = best.evaluated(done, heldOut, t);
                swapIn(average, weights);  // back to the live weights
                if (warning != null) {
                    out.println(warning);
                }
            }
            if (done % logEvery == 0) {
                long now = System.nanoTime();
                double sessionSeconds = (now - start) / 1e9;
                double tokensPerSecond = (done - firstStep) * (double) st.batch() * st.context() / sessionSeconds;
                double left = Double.POSITIVE_INFINITY;
                if (steps > 0) {
                    left = (steps - done) * sessionSeconds / (done - firstStep);
                }
                if (minutes > 0) {
                    left = Math.min(left, Math.max(0, (limitNanos - base - (now - start)) / 1e9));
                }
                out.printf(Locale.ROOT, "step %6d  train %.3f bpb  held-out %s  %,.0f tok/s  lr %.2e  |g| %.2f  left %s%n",
                        done, lossSum / lossCount / Math.log(2), bits(heldOut), tokensPerSecond, lr,
                        r.gradientNorm(), duration(left));
                lossSum = 0;
                lossCount = 0;
            }
            if (checkpointEvery > 0 && done % checkpointEvery == 0) {
                t.saveCheckpoint(checkpoint, base + (System.nanoTime() - start));
            }
        }
        long elapsed = base + (System.nanoTime() - start);
        t.saveCheckpoint(checkpoint, elapsed);
        swapIn(average, weights);  // from here on the model is what the file gets
        long keptStep = t.steps();
        if (hasHeldOut) {
            heldOut = t.evaluate(data.heldOut(), evalBytes);
            if (best.isBetterThan(heldOut)) {
                // The checkpoint above keeps the last state (to resume from); the model file gets the best one.
                out.printf(Locale.ROOT, "held-out %s at the end is worse than %s at step %d: writing the model of step %d%n",
                        bits(heldOut), bits(best.heldOut), best.step, best.step);
                best.restoreInto(t);
                heldOut = best.heldOut;
                keptStep = best.step;
            }
        }
        t.writeModel(outPath, type);
        double train = t.evaluate(data.train(), evalBytes);
        String kept = !hasHeldOut ? "last (nothing held out)" : keptStep == t.steps() ? "last" : "best held-out";
        new FitInfo(t.steps(), keptStep, kept, train / Math.log(2), heldOut / Math.log(2), data.train().length,
                data.heldOut().length, best.overfitting, sh.layers(), sh.embed(), sh.headSize(), st.context(),
                type.name(), normalize, inputLines, leaveOut).write(outPath);
        out.printf(Locale.ROOT, "done: %d steps in %s; model %s (%s) is step %d%s, train %s, held-out %s;"
                        + " losses in %s; checkpoint %s (step %d)%n",
                t.steps(), duration(elapsed / 1e9), outPath, type, keptStep,
                !hasHeldOut ? " (nothing held out)" : keptStep == t.steps() ? " (the last)" : " (the best held-out)",
                bits(train), bits(heldOut), FitInfo.pathFor(outPath).getFileName(), checkpoint, t.steps());
        long sessionSteps = t.steps() - firstStep;
        if (sessionSteps > 0 && stepNanos > 0) {
            double stepsPerSecond = sessionSteps / (stepNanos / 1e9);
            out.printf(Locale.ROOT, "speed: %.2f steps/s, %,.0f tokens/s (%d steps of %d x %d bytes on %d thread(s),"
                            + " evaluations and checkpoints apart)%n", stepsPerSecond,
                    stepsPerSecond * st.batch() * st.context(), sessionSteps, st.batch(), st.context(), st.threads());
        }
        if (best.overfitting) {
            out.println("the model overfitted: try a smaller model (--embed, --layers), fewer --steps or more text"
                    + (keptStep != t.steps() ? "; the model written is the one with the best held-out loss" : ""));
        }
        return 0;
    }

    /**
     * The parameters at the lowest held-out loss seen so far, and the overfitting test: the held-out loss has
     * not improved for {@link #PATIENCE} evaluations and is {@link #RISE} above its best while the training
     * loss is below what it was then. Copies are float, the precision the model file stores, so the written
     * model is exactly the best one's.
     */
    private static final class BestHeldOut {
        static final int PATIENCE = 3;
        static final double RISE = 1.05;
        double heldOut = Double.NaN;
        long step;
        float[] values;
        double trainAtBest;
        int evalsSinceBest;
        boolean overfitting;
        private double trainSum;
        private int trainCount;

        void trainLoss(double nats) {
            trainSum += nats;
            trainCount++;
        }

        /** Records an evaluation; returns the overfitting warning the first time it applies, else null. */
        String evaluated(long done, double loss, Rwkv7Trainer t) {
            double train = trainCount == 0 ? Double.NaN : trainSum / trainCount;  // since the last evaluation
            trainSum = 0;
            trainCount = 0;
            if (Double.isNaN(heldOut) || loss < heldOut) {
                heldOut = loss;
                step = done;
                trainAtBest = train;
                evalsSinceBest = 0;
                double[] v = t.model().values();
                if (values == null) {
                    values = new float[v.length];
                }
                for (int i = 0; i < v.length; i++) {
                    values[i] = (float) v[i];
                }
                return null;
            }
            evalsSinceBest++;
            if (!overfitting && evalsSinceBest >= PATIENCE && loss > heldOut * RISE && train < trainAtBest) {
                overfitting = true;
                return String.format(Locale.ROOT, "warning: overfitting: held-out %s, up from %s at step %d, while"
                                + " training fell from %s to %s; unless held-out improves again, the model of step %d is the one"
                                + " written (a smaller model or fewer steps would do as well)",
                        bits(loss), bits(heldOut), step, bits(trainAtBest), bits(train), step);
            }
            return null;
        }

        boolean isBetterThan(double loss) {
            return values != null && heldOut < loss;
        }

        void restoreInto(Rwkv7Trainer t) {
            double[] v = t.model().values();
            for (int i = 0; i < v.length; i++) {
                v[i] = values[i];
            }
        }
    }

    /** Exchanges the live weights and their average, if there is one (twice: back as they were). */
    private static void swapIn(WeightAverage average, double[] weights) {
        if (average != null && average.updates() > 0) {
            average.swap(weights);
        }
    }

    private static String bits(double nats) {
        return Double.isNaN(nats) ? "  -  " : String.format(Locale.ROOT, "%.3f bpb", nats / Math.log(2));
    }

    private static String duration(double seconds) {
        if (Double.isInfinite(seconds) || Double.isNaN(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
