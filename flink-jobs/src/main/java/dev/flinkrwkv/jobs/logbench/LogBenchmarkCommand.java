package dev.flinkrwkv.jobs.logbench;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.jobs.cli.UsageException;
import dev.flinkrwkv.rwkv.LogProbs;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;
import dev.flinkrwkv.rwkv.RwkvState;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.Locale;

/**
 * {@code bench-logs}: line-level anomaly detection quality on a labelled log (loghub BGL layout). The lines
 * before the split are the training period: their normal lines (labels stripped) are what a model is fitted
 * to ({@code --write-train} saves them for {@code fit}). Every line after the split is scored by its mean
 * surprisal in bits per byte (its newline included), and the scores are ranked against the labels (AUROC,
 * average precision) for: the RWKV model ({@code --model}; state carried across lines, from the initial
 * state), deflate compression primed with the normal text, and a byte n-gram model fitted to it.
 */
public final class LogBenchmarkCommand implements Command {
    @Override
    public String name() {
        return "bench-logs";
    }

    @Override
    public String summary() {
        return "line anomaly AUROC/AP on a labelled log: RWKV vs deflate and n-gram baselines";
    }

    @Override
    public String usage() {
        return "--log FILE [--split 0.5] [--model MODEL.bin] [--ngram 5] [--write-train TRAIN.txt]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        LabelledLog log = LabelledLog.read(args.path("log"));
        double split = args.number("split", 0.5);
        int order = args.integer("ngram", 5);
        if (!(split > 0 && split < 1)) {
            throw new UsageException("--split must be in (0, 1)");
        }
        int cut = (int) Math.round(log.size() * split);
        byte[] train = log.normalText(0, cut);
        if (args.has("write-train")) {
            Files.write(args.path("write-train"), train);
            out.printf("wrote %,d bytes of normal training lines to %s%n", train.length, args.path("write-train"));
        }
        int n = log.size() - cut;
        boolean[] anomaly = new boolean[n];
        byte[][] lines = new byte[n][];
        int anomalies = 0;
        for (int i = 0; i < n; i++) {
            anomaly[i] = log.anomaly(cut + i);
            anomalies += anomaly[i] ? 1 : 0;
            byte[] l = log.line(cut + i);
            lines[i] = java.util.Arrays.copyOf(l, l.length + 1);
            lines[i][l.length] = '\n';
        }
        out.printf(Locale.ROOT, "training period: %d lines (%,d bytes of normal lines); scored: %d lines, %d anomalies%n",
                cut, train.length, n, anomalies);
        out.printf("%-22s %8s %8s %16s %16s%n", "scorer", "AUROC", "AP", "normal bits/B", "anomaly bits/B");

        DeflateSurprisal deflate = new DeflateSurprisal(train);
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = deflate.bitsPerByte(lines[i]);
        }
        report(out, "deflate (32K dict)", s, anomaly);

        CharNgramModel ngram = new CharNgramModel(order, train);
        byte[] stream = concat(lines);
        int at = 0;
        for (int i = 0; i < n; i++) {
            double bits = 0;
            for (int j = 0; j < lines[i].length; j++) {
                bits += ngram.surprisalBits(stream, at + j);
            }
            at += lines[i].length;
            s[i] = bits / lines[i].length;
        }
        report(out, "byte " + order + "-gram (W-B)", s, anomaly);

        if (args.has("model")) {
            RwkvModel m = RwkvModel.load(args.path("model"));
            if (m.vocab() != 256) {
                throw new UsageException("bench-logs needs a byte-level model (vocabulary 256)");
            }
            RwkvEvaluator ev = m.newEvaluator();
            RwkvState state = m.initialState();
            float[] logits = new float[256];
            ev.step(state, '\n', logits); // as if after a previous line
            for (int i = 0; i < n; i++) {
                double nats = 0;
                for (byte b : lines[i]) {
                    nats -= LogProbs.of(logits, 0, 256, b & 0xFF);
                    ev.step(state, b & 0xFF, logits);
                }
                s[i] = nats / Math.log(2) / lines[i].length;
            }
            report(out, "rwkv " + args.path("model").getFileName(), s, anomaly);
        }
        return 0;
    }

    private static byte[] concat(byte[][] lines) {
        int len = 0;
        for (byte[] l : lines) {
            len += l.length;
        }
        byte[] all = new byte[len];
        int at = 0;
        for (byte[] l : lines) {
            System.arraycopy(l, 0, all, at, l.length);
            at += l.length;
        }
        return all;
    }

    private static void report(PrintStream out, String name, double[] score, boolean[] anomaly) {
        double normal = 0, anom = 0;
        int nn = 0, na = 0;
        for (int i = 0; i < score.length; i++) {
            if (anomaly[i]) {
                anom += score[i];
                na++;
            } else {
                normal += score[i];
                nn++;
            }
        }
        out.printf(Locale.ROOT, "%-22s %8.4f %8.4f %16.3f %16.3f%n", name, RankMetrics.auroc(score, anomaly),
                RankMetrics.averagePrecision(score, anomaly), nn == 0 ? Double.NaN : normal / nn,
                na == 0 ? Double.NaN : anom / na);
    }
}
