package dev.flinkrwkv.jobs.logs;

import java.io.ByteArrayOutputStream;

/**
 * {@code fit --leave-out I/K}: the fit's input lines cut in {@code K} blocks of consecutive lines, as equal as
 * can be, and block {@code I} (from 1) left out of the fit. Fitting {@code K} models with blocks 1 to
 * {@code K} (a cross-fitted ensemble) gives every input line models that never saw it: eval-logs chooses the
 * line statistic on their scores of those lines, where a model's scores of lines it learnt say little.
 */
public record LeaveOut(int block, int blocks) {
    public LeaveOut {
        if (blocks < 2 || block < 1 || block > blocks) {
            throw new IllegalArgumentException("--leave-out takes I/K with K >= 2 and I in 1..K, got " + block + "/" + blocks);
        }
    }

    /** {@code I/K}, as the command line and the model's metadata write it. */
    public static LeaveOut parse(String s) {
        int slash = s.indexOf('/');
        try {
            if (slash > 0) {
                return new LeaveOut(Integer.parseInt(s.substring(0, slash).trim()), Integer.parseInt(s.substring(slash + 1).trim()));
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("--leave-out takes I/K (block I of K, e.g. 2/3), got '" + s + "'");
    }

    public String label() {
        return block + "/" + blocks;
    }

    /** The first line (from 0) of block {@code b} (from 1; {@code blocks + 1} gives the end) of {@code lines} lines. */
    private long start(int b, long lines) {
        return (b - 1) * lines / blocks;
    }

    /** Whether line {@code line} (from 0) of {@code lines} lies in the block left out. */
    public boolean leavesOut(long line, long lines) {
        return line >= start(block, lines) && line < start(block + 1, lines);
    }

    /** The lines of {@code text} ({@code \n}-separated; a last line without one counts) there are. */
    public static long lines(byte[] text) {
        long n = 0;
        for (int i = 0; i < text.length; i++) {
            if (text[i] == '\n' || i == text.length - 1) {
                n++;
            }
        }
        return n;
    }

    /** {@code text} without the block left out, the other lines in their order. */
    public byte[] apply(byte[] text) {
        long lines = lines(text);
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length);
        long line = 0;
        int start = 0;
        for (int i = 0; i < text.length; i++) {
            if (text[i] == '\n' || i == text.length - 1) {
                if (!leavesOut(line, lines)) {
                    out.write(text, start, i + 1 - start);
                }
                line++;
                start = i + 1;
            }
        }
        return out.toByteArray();
    }
}
