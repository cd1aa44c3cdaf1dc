package dev.flinkrwkv.jobs.fit;

import dev.flinkrwkv.jobs.Main;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.rwkv.RwkvModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code fit} command line: a run writes a loadable model, is reproducible, resumes, rejects misuse. */
class FitCommandTest {
    @TempDir
    Path dir;

    private Path text() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sb.append("node ").append(i % 7).append(" reports status ok\n");
        }
        Path f = dir.resolve("normal.log");
        Files.writeString(f, sb.toString());
        return f;
    }

    private record Result(int code, String out, String err) {}

    private static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private String[] fitArgs(Path input, Path model, int steps, String... extra) {
        String[] base = {"fit", "--input", input.toString(), "--out", model.toString(), "--steps", "" + steps,
                "--embed", "32", "--layers", "1", "--head-size", "16", "--context", "16", "--batch", "2",
                "--threads", "2", "--log-every", "5", "--eval-every", "5", "--seed", "3"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void fitWritesAModelThatEvalLoadsAndTheSameOptionsGiveTheSameFile() throws IOException {
        Path input = text();
        Path a = dir.resolve("a.bin"), b = dir.resolve("b.bin");
        Result r = run(fitArgs(input, a, 10));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("step     10"), r.out());
        assertTrue(r.out().contains("held-out"), r.out());
        // The losses, as printed, in the metadata file beside the model.
        java.util.regex.Matcher printed = java.util.regex.Pattern.compile("train ([0-9.]+) bpb, held-out ([0-9.]+) bpb;"
                + " losses in a.bin.json").matcher(r.out());
        assertTrue(printed.find(), r.out());
        dev.flinkrwkv.jobs.logs.FitInfo info = dev.flinkrwkv.jobs.logs.FitInfo.read(a);
        assertEquals(Double.parseDouble(printed.group(1)), info.trainBitsPerByte(), 0.0006);
        assertEquals(Double.parseDouble(printed.group(2)), info.heldOutBitsPerByte(), 0.0006);
        assertEquals(10, info.modelStep());
        assertEquals(32, info.embed());
        assertTrue(Files.isRegularFile(dir.resolve("a.bin.ckpt")));
        RwkvModel m = RwkvModel.load(a);
        assertEquals(32, m.embed());
        assertEquals(1, m.layers());
        assertEquals(256, m.vocab());

        Result e = run("eval", "--model", a.toString(), "--input", input.toString(),
                "--logprobs", dir.resolve("lp.f32").toString());
        assertEquals(0, e.code(), e.err());

        assertEquals(0, run(fitArgs(input, b, 10)).code());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void fitTypeQ8WritesAQuantizedModelThatEvalLoadsAndScores() throws IOException {
        Path input = text();
        Path q8 = dir.resolve("q8.bin");
        Result r = run(fitArgs(input, q8, 10, "--type", "q8_0"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(Q8_0)"), r.out());
        ModelFile file = ModelFile.open(q8);
        assertEquals(TensorType.Q8_0.code, file.mainTypeCode());
        assertEquals(TensorType.Q8_0, file.tensor("blocks.0.ffn.key.weight").type());

        Path lp = dir.resolve("lp.f32");
        Result e = run("eval", "--model", q8.toString(), "--input", input.toString(), "--logprobs", lp.toString());
        assertEquals(0, e.code(), e.err());
        assertEquals(4L * (Files.size(input) - 1), Files.size(lp));
    }

    @Test
    void resumeContinuesFromTheCheckpoint() throws IOException {
        Path input = text();
        Path model = dir.resolve("m.bin");
        assertEquals(0, run(fitArgs(input, model, 5)).code());
        Result r = run(fitArgs(input, model, 10, "--resume"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resuming from") && r.out().contains("at step 5"), r.out());
        assertTrue(r.out().contains("done: 10 steps"), r.out());
        // The speed line counts this run's steps only, not the resumed ones.
        assertTrue(java.util.regex.Pattern.compile("speed: [\\d.]+ steps/s, [\\d,]+ tokens/s \\(5 steps of 2 x 16 bytes")
                .matcher(r.out()).find(), r.out());
    }

    @Test
    void withoutABudgetItChoosesStepsFromTheTextAndSaysHowToRepeatThem() throws IOException {
        Path input = text();
        Path a = dir.resolve("default.bin"), b = dir.resolve("repeat.bin");
        List<String> argv = new java.util.ArrayList<>(List.of(fitArgs(input, a, 1)));
        int at = argv.indexOf("--steps");
        argv.subList(at, at + 2).clear();
        Result r = run(argv.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("fitting (\\d+) steps: about 2 passes over the ([\\d,]+) training bytes at 2 x 16 bytes a step"
                        + " \\(--steps (\\d+) repeats this run").matcher(r.out());
        assertTrue(m.find(), r.out());
        long steps = Long.parseLong(m.group(1));
        assertEquals(FitCommand.defaultSteps(Long.parseLong(m.group(2).replace(",", "")), 32), steps);
        assertEquals(steps, Long.parseLong(m.group(3)));
        assertTrue(r.out().contains("done: " + steps + " steps"), r.out());
        Result again = run(fitArgs(input, b, (int) steps));
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void theDefaultStepsArePassesOverTheTextWithinBounds() {
        assertEquals(FitCommand.MIN_DEFAULT_STEPS, FitCommand.defaultSteps(1000, 512));
        assertEquals(400, FitCommand.defaultSteps(100_000, 500));
        assertEquals(401, FitCommand.defaultSteps(100_001, 500));
        assertEquals(FitCommand.MAX_DEFAULT_STEPS, FitCommand.defaultSteps(100_000_000, 512));
    }

    @Test
    void normalizeIsRecordedWithTheModelAndWeightDecayChangesTheFit() throws IOException {
        Path input = text();
        Path masked = dir.resolve("masked.bin"), plain = dir.resolve("plain.bin"), decayed = dir.resolve("decayed.bin");
        Result r = run(fitArgs(input, masked, 5, "--normalize", "digits"));
        assertEquals(0, r.code(), r.err());
        assertEquals(dev.flinkrwkv.jobs.logs.LineNormalizer.DIGITS, dev.flinkrwkv.jobs.logs.FitInfo.read(masked).normalize());
        assertEquals(0, run(fitArgs(input, plain, 5)).code());
        assertEquals(dev.flinkrwkv.jobs.logs.LineNormalizer.NONE, dev.flinkrwkv.jobs.logs.FitInfo.read(plain).normalize());
        // the masked text is another text: another model
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(masked), Files.readAllBytes(plain)));
        assertEquals(0, run(fitArgs(input, decayed, 5, "--weight-decay", "1")).code());
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(decayed), Files.readAllBytes(plain)));

        assertEquals(2, run(fitArgs(input, dir.resolve("n.bin"), 1, "--normalize", "numbers")).code());
        assertEquals(2, run(fitArgs(input, dir.resolve("w.bin"), 1, "--weight-decay", "-0.1")).code());
    }

    @Test
    void averagedWeightsAreAnotherModelAndTheSameOptionsGiveTheSameFile() throws IOException {
        Path input = text();
        Path plain = dir.resolve("plain.bin"), averaged = dir.resolve("averaged.bin"), again = dir.resolve("again.bin");
        assertEquals(0, run(fitArgs(input, plain, 10)).code());
        Result r = run(fitArgs(input, averaged, 10, "--average-weights", "0.9"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("the model is the moving average of the weights (decay 0.9)"), r.out());
        assertEquals(0, run(fitArgs(input, again, 10, "--average-weights", "0.9")).code());
        assertArrayEquals(Files.readAllBytes(averaged), Files.readAllBytes(again));
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(averaged), Files.readAllBytes(plain)));
        // Evaluating the average (every 5 steps here) leaves training alone: both checkpoints hold the same live
        // weights, which a resume at the last step writes as they are.
        Path plainLive = dir.resolve("plain-live.bin"), averagedLive = dir.resolve("averaged-live.bin");
        assertEquals(0, run(fitArgs(input, plainLive, 10, "--resume", "--checkpoint", dir.resolve("plain.bin.ckpt").toString())).code());
        assertEquals(0, run(fitArgs(input, averagedLive, 10, "--resume", "--checkpoint",
                dir.resolve("averaged.bin.ckpt").toString())).code());
        assertArrayEquals(Files.readAllBytes(plainLive), Files.readAllBytes(averagedLive));
        assertEquals(1, RwkvModel.load(averaged).layers());

        for (String bad : new String[] {"0", "1", "-0.5"}) {
            Result b = run(fitArgs(input, dir.resolve("bad.bin"), 1, "--average-weights", bad));
            assertEquals(2, b.code(), bad);
            assertTrue(b.err().contains("--average-weights takes a decay in (0, 1)"), b.err());
        }
    }

    @Test
    void leaveOutFitsTheOtherBlocksAndRecordsWhichItLeftOut() throws IOException {
        Path input = text();   // 200 lines
        Path all = dir.resolve("all.bin"), half = dir.resolve("half.bin");
        assertEquals(0, run(fitArgs(input, all, 5)).code());
        Result r = run(fitArgs(input, half, 5, "--leave-out", "2/2"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("leaving out block 2/2 of the 200 input lines: fitting 100 of them"), r.out());
        dev.flinkrwkv.jobs.logs.FitInfo info = dev.flinkrwkv.jobs.logs.FitInfo.read(half);
        assertEquals(new dev.flinkrwkv.jobs.logs.LeaveOut(2, 2), info.leftOut());
        assertEquals(200, info.inputLines());
        assertTrue(info.trainBytes() + info.heldOutBytes() < dev.flinkrwkv.jobs.logs.FitInfo.read(all).trainBytes() * 0.6);
        assertEquals(null, dev.flinkrwkv.jobs.logs.FitInfo.read(all).leftOut());
        Result bad = run(fitArgs(input, dir.resolve("bad.bin"), 1, "--leave-out", "3/2"));
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--leave-out takes I/K"), bad.err());
    }

    @Test
    void misuseIsAUsageError() throws IOException {
        Path input = text();
        Result v4 = run(fitArgs(input, dir.resolve("x.bin"), 5, "--version", "4"));
        assertEquals(2, v4.code());
        assertTrue(v4.err().contains("version 7 only"), v4.err());
        Result noSteps = run(fitArgs(input, dir.resolve("y.bin"), 0));
        assertEquals(2, noSteps.code());
        assertTrue(noSteps.err().contains("--steps and --minutes must be above 0"), noSteps.err());
        Result missing = run("fit", "--input", dir.resolve("none.log").toString(), "--out",
                dir.resolve("z.bin").toString(), "--steps", "1");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("not a readable file"), missing.err());
        Result badType = run(fitArgs(input, dir.resolve("t.bin"), 1, "--type", "Q3_K"));
        assertEquals(2, badType.code());
        assertTrue(badType.err().contains("unknown storage type"), badType.err());
        Result partialBlocks = run("fit", "--input", input.toString(), "--out", dir.resolve("u.bin").toString(),
                "--steps", "1", "--embed", "48", "--head-size", "16", "--type", "Q4_0");
        assertEquals(2, partialBlocks.code());
        assertTrue(partialBlocks.err().contains("not a multiple of 32"), partialBlocks.err());
        assertTrue(!Files.exists(dir.resolve("u.bin")));
    }

    /**
     * Training text of one repeated line, a held-out tail of quite different lines: the more the model
     * learns the training line, the worse it predicts the tail, so the held-out loss rises as training falls.
     */
    private Path overfittingText() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 190; i++) {
            sb.append("node ok status ok\n");
        }
        for (int i = 0; i < 10; i++) {
            sb.append("ZQ#").append(i).append("~x}{Wv|jj@@\n");
        }
        Path f = dir.resolve("overfit.log");
        Files.writeString(f, sb.toString());
        return f;
    }

    @Test
    void theBestHeldOutModelIsKeptAndOverfittingIsReported() throws IOException {
        Path input = overfittingText();
        Path best = dir.resolve("best.bin"), again = dir.resolve("again.bin");
        Result r = run(fitArgs(input, best, 60, "--lr", "1e-2"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("warning: overfitting: held-out"), r.out());
        assertTrue(r.out().contains("(the best held-out)") && r.out().contains("the model overfitted: try a smaller model"), r.out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("model \\S+ \\(FP32\\) is step (\\d+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        int kept = Integer.parseInt(m.group(1));
        assertTrue(kept < 60 && kept % 5 == 0, r.out());

        // Same options, same model.
        assertEquals(0, run(fitArgs(input, again, 60, "--lr", "1e-2")).code());
        assertArrayEquals(Files.readAllBytes(best), Files.readAllBytes(again));

        // The last model (resumed from the checkpoint at step 60, no step left to take) predicts the held-out
        // tail worse than the model written.
        Path last = dir.resolve("last.bin");
        Files.copy(dir.resolve("best.bin.ckpt"), dir.resolve("last.bin.ckpt"));
        Result l = run(fitArgs(input, last, 60, "--lr", "1e-2", "--resume"));
        assertEquals(0, l.code(), l.err());
        assertTrue(l.out().contains("is step 60 (the last)"), l.out());
        Path tail = dir.resolve("tail.log");
        List<String> lines = Files.readAllLines(input);
        Files.write(tail, lines.subList(190, 200));
        assertTrue(meanBits(best, tail) < meanBits(last, tail));
    }

    /** Mean bits per byte of {@code model} on {@code text}, through the eval command. */
    private double meanBits(Path model, Path text) throws IOException {
        Path lp = dir.resolve(model.getFileName() + ".f32");
        Result e = run("eval", "--model", model.toString(), "--input", text.toString(), "--logprobs", lp.toString());
        assertEquals(0, e.code(), e.err());
        java.nio.FloatBuffer f = java.nio.ByteBuffer.wrap(Files.readAllBytes(lp)).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        double sum = 0;
        int n = f.remaining();
        for (int i = 0; i < n; i++) {
            sum -= f.get(i);
        }
        return sum / n / Math.log(2);
    }
}
