package dev.flinkrwkv.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The bytes a model is fitted to: the input files concatenated, split into a training part and a held-out
 * tail. The split falls just after a newline when there is one near it, so that held-out lines are whole.
 */
public final class TrainingData {
    private final byte[] train;
    private final byte[] heldOut;

    public TrainingData(byte[] train, byte[] heldOut) {
        this.train = train;
        this.heldOut = heldOut;
    }

    /** The bytes of {@code files}, one after another. */
    public static byte[] concatenate(List<Path> files) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new IOException("input " + f + " is not a readable file");
            }
            all.write(Files.readAllBytes(f));
        }
        return all.toByteArray();
    }

    public static TrainingData split(byte[] bytes, double heldOutFraction) {
        if (heldOutFraction < 0 || heldOutFraction >= 1) {
            throw new IllegalArgumentException("the held-out fraction must be in [0, 1), got " + heldOutFraction);
        }
        int cut = bytes.length - (int) Math.round(bytes.length * heldOutFraction);
        if (cut < bytes.length) {
            // Move the cut forward to just after the next newline, if one is within a few lines' reach.
            int limit = Math.min(bytes.length, cut + 4096);
            for (int i = Math.max(cut - 1, 0); i < limit; i++) {
                if (bytes[i] == '\n') {
                    cut = Math.min(i + 1, bytes.length);
                    break;
                }
            }
        }
        return new TrainingData(Arrays.copyOf(bytes, cut), Arrays.copyOfRange(bytes, cut, bytes.length));
    }

    public byte[] train() {
        return train;
    }

    public byte[] heldOut() {
        return heldOut;
    }

    /** A checksum of the training bytes, so that a checkpoint resumes only on the data it was fitted to. */
    public long fingerprint() {
        CRC32 crc = new CRC32();
        crc.update(train);
        return crc.getValue() ^ ((long) train.length << 32);
    }
}
