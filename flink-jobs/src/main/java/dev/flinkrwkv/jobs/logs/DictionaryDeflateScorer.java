package dev.flinkrwkv.jobs.logs;

import java.util.Arrays;
import java.util.List;
import java.util.zip.Deflater;

/**
 * Bits per byte of a line's raw deflate encoding with the training text as the preset dictionary: the last
 * 32 KiB (deflate's whole window) of the training lines joined by {@code \n}. A line made of phrases of the
 * training text compresses to back-references; new content costs literal bits. The dictionary is fixed,
 * unlike {@link DeflateLineScorer}'s window, which slides over the evaluated lines themselves.
 */
public final class DictionaryDeflateScorer implements TrainedScorer {
    private static final int WINDOW = 32 * 1024;
    private byte[] dictionary = new byte[0];
    private final byte[] buffer = new byte[4096];

    @Override
    public String name() {
        return "deflate-dict";
    }

    @Override
    public void train(List<byte[]> lines) {
        int len = 0;
        // Walk back from the last line until the window is full, then lay the lines out in their order.
        int first = lines.size();
        while (first > 0 && len < WINDOW) {
            first--;
            len += lines.get(first).length + 1;
        }
        byte[] all = new byte[len];
        int at = 0;
        for (int i = first; i < lines.size(); i++) {
            byte[] line = lines.get(i);
            System.arraycopy(line, 0, all, at, line.length);
            at += line.length;
            all[at++] = '\n';
        }
        dictionary = Arrays.copyOfRange(all, Math.max(0, len - WINDOW), len);
    }

    @Override
    public double score(byte[] line) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        try {
            if (dictionary.length > 0) {
                deflater.setDictionary(dictionary);
            }
            deflater.setInput(line);
            deflater.finish();
            long bytes = 0;
            while (!deflater.finished()) {
                bytes += deflater.deflate(buffer);
            }
            return 8.0 * bytes / Math.max(1, line.length);
        } finally {
            deflater.end();
        }
    }
}
