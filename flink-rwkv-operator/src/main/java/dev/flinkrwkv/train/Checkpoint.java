package dev.flinkrwkv.train;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The file a fit resumes from: the model's shape, the batch settings, a fingerprint of the training data,
 * the optimizer's step count, the run's elapsed time, the parameters and both Adam moments in double, and
 * every stream's position and carried state. Resuming from it continues the same computation (with the same
 * thread count, bit for bit). Written beside the destination and moved into place, so an interrupted write
 * leaves the previous checkpoint intact.
 */
final class Checkpoint {
    private static final long MAGIC = 0x46524B5746495431L; // "FRKWFIT1"

    private Checkpoint() {}

    static void write(Path file, Rwkv7Trainer t, long elapsedNanos) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Rwkv7Params m = t.model();
        Rwkv7Shape s = m.shape();
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
            out.writeLong(MAGIC);
            for (int v : new int[] {s.vocab(), s.embed(), s.layers(), s.headSize(), s.ffn(),
                    s.decayRank(), s.aRank(), s.valueRank(), s.gateRank(),
                    t.settings().context(), t.settings().batch()}) {
                out.writeInt(v);
            }
            out.writeLong(t.dataFingerprint());
            out.writeLong(t.adam().steps);
            out.writeLong(elapsedNanos);
            writeDoubles(out, m.values());
            writeDoubles(out, t.adam().m);
            writeDoubles(out, t.adam().v);
            for (int p : t.positions()) {
                out.writeInt(p);
            }
            for (double[] st : t.states()) {
                writeDoubles(out, st);
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static Rwkv7Trainer read(Path file, TrainingData data, int threads) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            if (in.readLong() != MAGIC) {
                throw new IOException(file + " is not a flink-rwkv fit checkpoint");
            }
            Rwkv7Shape shape = new Rwkv7Shape(in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(),
                    in.readInt(), in.readInt(), in.readInt(), in.readInt());
            int context = in.readInt(), batch = in.readInt();
            long fingerprint = in.readLong();
            if (fingerprint != data.fingerprint()) {
                throw new IOException("checkpoint " + file + " was fitted to other training data "
                        + "(give the same --input files and --holdout-fraction to resume)");
            }
            long steps = in.readLong();
            long elapsed = in.readLong();
            Rwkv7Params model = new Rwkv7Params(shape);
            readDoubles(in, model.values());
            Adam adam = Adam.forRwkv(model.size());
            readDoubles(in, adam.m);
            readDoubles(in, adam.v);
            adam.steps = steps;
            int[] position = new int[batch];
            for (int b = 0; b < batch; b++) {
                position[b] = in.readInt();
            }
            double[][] states = new double[batch][shape.stateSize()];
            for (double[] st : states) {
                readDoubles(in, st);
            }
            Rwkv7Trainer t = new Rwkv7Trainer(model, adam, new Rwkv7Trainer.Settings(context, batch, threads), data,
                    position, states);
            t.resumedElapsedNanos = elapsed;
            return t;
        } catch (EOFException e) {
            throw new IOException("checkpoint " + file + " is truncated");
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + file + " is corrupt: " + e.getMessage());
        }
    }

    private static void writeDoubles(DataOutputStream out, double[] v) throws IOException {
        for (double d : v) {
            out.writeDouble(d);
        }
    }

    private static void readDoubles(DataInputStream in, double[] v) throws IOException {
        for (int i = 0; i < v.length; i++) {
            v[i] = in.readDouble();
        }
    }
}
