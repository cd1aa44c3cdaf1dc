package dev.flinkrwkv.jobs.logs;

import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.zip.Deflater;

/**
 * A compression baseline: a line's surprisal is the size of its raw deflate encoding, in bits, with the
 * preceding 32 KiB of the key's lines as the preset dictionary (deflate's whole window). Lines like recent
 * ones compress to back-references and cost little; new content costs literal bits. Reported as the total
 * over the line's bytes (no per-byte detail). The constant cost of ending a deflate block is included in
 * every line alike.
 *
 * <p>Why the window slides over the key's own history rather than being a fixed dictionary of the
 * label-filtered training lines (the former {@code bench-logs} variant): it follows the {@link LineScorer}
 * contract that every scorer in the table shares (online, unsupervised, per key, as a live detector must
 * work without labels), so its numbers compare with the RWKV and n-gram rows under one protocol, and it
 * adapts when the normal traffic drifts, where a frozen 32 KiB dictionary of the first half stops matching.
 */
public final class DeflateLineScorer implements LineScorer {
    private static final int WINDOW = 32 * 1024;

    @Override
    public String name() {
        return "deflate-online";
    }

    @Override
    public LineSurprisal[] score(List<byte[]> lines, IntConsumer progress) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        byte[] history = new byte[2 * WINDOW];
        int historyLen = 0;
        byte[] buf = new byte[4096];
        LineSurprisal[] out = new LineSurprisal[lines.size()];
        try {
            for (int i = 0; i < out.length; i++) {
                byte[] line = lines.get(i);
                deflater.reset();
                int from = Math.max(0, historyLen - WINDOW);
                if (historyLen > 0) {
                    deflater.setDictionary(history, from, historyLen - from);
                }
                deflater.setInput(line);
                deflater.finish();
                long bytes = 0;
                while (!deflater.finished()) {
                    bytes += deflater.deflate(buf);
                }
                out[i] = LineSurprisal.fromTotalBits(8.0 * bytes, line.length);
                // Slide the window: keep the last WINDOW bytes, then append this line and its end.
                int need = line.length + 1;
                if (historyLen + need > history.length) {
                    int keep = Math.min(historyLen, WINDOW);
                    System.arraycopy(history, historyLen - keep, history, 0, keep);
                    historyLen = keep;
                    if (historyLen + need > history.length) {
                        history = Arrays.copyOf(history, historyLen + need);
                    }
                }
                System.arraycopy(line, 0, history, historyLen, line.length);
                historyLen += line.length;
                history[historyLen++] = '\n';
                progress.accept(i + 1);
            }
        } finally {
            deflater.end();
        }
        return out;
    }
}
