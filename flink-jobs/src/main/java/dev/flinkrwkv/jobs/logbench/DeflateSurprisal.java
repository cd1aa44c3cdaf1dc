package dev.flinkrwkv.jobs.logbench;

import java.util.Arrays;
import java.util.zip.Deflater;

/**
 * Compression surprisal, a classic baseline: the bits deflate needs for a line when primed with the last
 * 32 KiB of normal text as its preset dictionary, per byte of the line. Lines like the normal text compress
 * to back-references; novel content costs literals.
 */
public final class DeflateSurprisal {
    private static final int WINDOW = 32 * 1024;
    private final byte[] dictionary;
    private final Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
    private final byte[] out = new byte[1 << 16];
    private final int emptyBits;

    public DeflateSurprisal(byte[] normalText) {
        dictionary = Arrays.copyOfRange(normalText, Math.max(0, normalText.length - WINDOW), normalText.length);
        emptyBits = compressedBits(new byte[0]);
    }

    /** Bits per byte of {@code line} beyond the fixed cost of an empty stream. */
    public double bitsPerByte(byte[] line) {
        return line.length == 0 ? 0 : Math.max(0, compressedBits(line) - emptyBits) / (double) line.length;
    }

    private int compressedBits(byte[] line) {
        deflater.reset();
        deflater.setDictionary(dictionary);
        deflater.setInput(line);
        deflater.finish();
        int n = 0;
        while (!deflater.finished()) {
            n += deflater.deflate(out);
        }
        return 8 * n;
    }
}
