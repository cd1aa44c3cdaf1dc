package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.model.RwkvVersion;
import dev.flinkrwkv.model.TensorType;
import dev.flinkrwkv.rwkv.RwkvModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * GPU throughput table: tokens/s of the CUDA backend at several batch sizes (resident states, logits
 * computed on the device and not copied back), with the bytes one step must move at least (weights once,
 * every state read and written, logits written) and that over the measured device-to-device copy
 * bandwidth, plus the achieved FP32 GFLOP/s of the matrix products.
 *
 * <p>Run by {@code native/bench-gpu.sh}: {@code GpuBench [--batches 1,64,512,4096] [--seconds 2]
 * [--random DIR] MODEL.bin...} (a class of the test sources: a measuring tool, not part of the library).
 * {@code --random DIR} first writes the two shapes into DIR with seeded random FP16 weights: a
 * 169M-shaped v4 (12 x 768, vocabulary 50277) and a 0.1B-shaped v7 (12 x 768, vocabulary 65536). Model
 * files that size cannot travel to the GPU machine, so they are made there.
 */
public final class GpuBench {
    private GpuBench() {}

    public static void main(String[] args) throws IOException {
        int[] batches = {1, 64, 512, 4096};
        double seconds = 2;
        List<Path> models = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batches":
                    batches = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                    break;
                case "--seconds":
                    seconds = Double.parseDouble(args[++i]);
                    break;
                case "--random":
                    Path dir = Path.of(args[++i]);
                    models.add(randomModel(RwkvVersion.V4, 50277, dir.resolve("random-v4-169m-FP16.bin")));
                    models.add(randomModel(RwkvVersion.V7, 65536, dir.resolve("random-v7-0.1b-FP16.bin")));
                    break;
                default:
                    models.add(Path.of(args[i]));
            }
        }
        if (models.isEmpty()) {
            System.err.println("usage: GpuBench [--batches 1,64,512,4096] [--seconds 2] [--random DIR] MODEL.bin...");
            System.exit(2);
        }
        if (!CudaDevice.probe().available) {
            System.err.println("GpuBench: no usable CUDA GPU: " + CudaDevice.probe().description);
            System.exit(1);
        }
        CudaDevice device = CudaDevice.device();
        double copy = device.copyBandwidth(1L << 30, 20);
        System.out.printf("device %s%nmeasured device-to-device copy: %.1f GB/s (bytes read + written)%n%n",
                device.description(), copy / 1e9);
        for (Path p : models) {
            bench(RwkvModel.load(p), batches, seconds, copy);
        }
    }

    /**
     * A 12 x 768 FP16 model of random weights, written by {@code dev.flinkrwkv.rwkv.RandomModel} (the
     * init-model writer). Called through reflection because that class lands on another branch; after the
     * merge this becomes {@code RandomModel.write(RandomModel.Shape.of(version, 12, 768, vocab), FP16, 1, out)}.
     */
    static Path randomModel(RwkvVersion version, int vocab, Path out) throws IOException {
        if (Files.exists(out)) {
            return out;
        }
        Files.createDirectories(out.getParent());
        try {
            Class<?> random = Class.forName("dev.flinkrwkv.rwkv.RandomModel");
            Class<?> spec = Class.forName("dev.flinkrwkv.rwkv.RandomModel$Spec");
            Object s = spec.getMethod("of", RwkvVersion.class, int.class, int.class, int.class)
                    .invoke(null, version, 12, 768, vocab);
            random.getMethod("write", spec, TensorType.class, long.class, Path.class)
                    .invoke(null, s, TensorType.FP16, 1L, out);
            return out;
        } catch (ReflectiveOperationException e) {
            throw new IOException("cannot write a random model (RandomModel, the init-model writer, is needed): " + e, e);
        }
    }

    static void bench(RwkvModel m, int[] batches, double seconds, double copy) {
        long matrixParams = m.parameterCount() - (long) m.vocab() * m.embed(); // all but the embedding, ~ the matrices
        try (CudaBackend gpu = new CudaBackend(m)) {
            System.out.printf("model %s: RWKV %s, %d layers x %d, vocab %d, %s; weights on device %.1f MB, %.1f MB read per step%n",
                    m.file().path().getFileName(), m.version(), m.layers(), m.embed(), m.vocab(), m.storageTypes(),
                    gpu.gpuModel().deviceBytes() / 1e6, gpu.weightBytesPerStep() / 1e6);
            System.out.printf("%7s %12s %10s %14s %10s %10s %10s%n", "batch", "tokens/s", "ms/step", "MB/step (min)",
                    "GB/s", "of copy", "GFLOP/s");
            Random rnd = new Random(1);
            for (int batch : batches) {
                try {
                    gpu.resizeSlots(batch);
                } catch (RuntimeException e) {
                    System.out.printf("%7d  skipped: %s%n", batch, e.getMessage());
                    continue;
                }
                int[] slots = new int[batch];
                int[] tokens = new int[batch];
                for (int b = 0; b < batch; b++) {
                    slots[b] = b;
                    tokens[b] = rnd.nextInt(m.vocab());
                }
                for (int i = 0; i < 3; i++) {
                    gpu.stepSlotsOnDevice(slots, tokens, batch, true);
                }
                long t0 = System.nanoTime();
                int steps = 0;
                while (steps < 5 || System.nanoTime() - t0 < seconds * 1e9) {
                    tokens[steps % batch] = (tokens[steps % batch] + 1) % m.vocab();
                    gpu.stepSlotsOnDevice(slots, tokens, batch, true);
                    steps++;
                }
                double s = (System.nanoTime() - t0) / 1e9;
                double stepsPerSecond = steps / s;
                long bytes = gpu.weightBytesPerStep()
                        + 2L * batch * m.stateSize() * Float.BYTES          // states read and written
                        + (long) batch * m.vocab() * Float.BYTES            // logits written
                        + (long) batch * m.embed() * Float.BYTES;           // embedding rows read
                double gbs = bytes * stepsPerSecond / 1e9;
                System.out.printf("%7d %12.0f %10.3f %14.1f %10.1f %9.1f%% %10.0f%n", batch, batch * stepsPerSecond,
                        1000 / stepsPerSecond, bytes / 1e6, gbs, 100 * gbs * 1e9 / copy,
                        2.0 * matrixParams * batch * stepsPerSecond / 1e9);
                gpu.resizeSlots(0);
            }
            System.out.println();
        }
    }
}
