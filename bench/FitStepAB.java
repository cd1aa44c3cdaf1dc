import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The cost of one optimizer step of fit's trainer, for two or more builds side by side in one JVM: each jar
 * (flink-jobs/target/flink-rwkv.jar of a build) gets a class loader of its own and a trainer of the same
 * shape, seed and data, and after a warm-up the trainers take turns running blocks of steps (the order
 * reversed every other round), so that every build meets the same load on a shared machine. Per block it
 * prints the process's CPU time and the wall time per step (held-out evaluations, reading and JVM start
 * are no part of it), and at the end each build's medians and the first build's ratio to the others.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector bench/FitStepAB.java INPUT EMBED LAYERS WARMUP BLOCK ROUNDS THREADS JAR...
 * java --add-modules jdk.incubator.vector bench/FitStepAB.java \
 *     flink-rwkv-operator/src/test/data/loghub/BGL_2k.log 64 2 300 60 8 2 /tmp/before.jar flink-jobs/target/flink-rwkv.jar
 * </pre>
 *
 * Batch 8 x 64 bytes, head size 32 and seed 1, as fit's defaults; learning rate 1e-3 and clip 1.0 throughout
 * (neither changes a step's cost).
 */
public class FitStepAB {
    /** One build's trainer, reached by reflection through the build's own class loader. */
    private static final class Build {
        final Object trainer;
        final Method step;

        Build(String jar, byte[] bytes, int embed, int layers, int threads) throws Exception {
            ClassLoader loader = new URLClassLoader(new URL[]{Path.of(jar).toUri().toURL()},
                    ClassLoader.getPlatformClassLoader());
            Class<?> dataType = loader.loadClass("dev.flinkrwkv.train.TrainingData");
            Object data = dataType.getMethod("split", byte[].class, double.class).invoke(null, bytes, 0.05);
            Class<?> shapeType = loader.loadClass("dev.flinkrwkv.train.Rwkv7Shape");
            Object shape = shapeType.getMethod("of", int.class, int.class, int.class).invoke(null, embed, layers, 32);
            Class<?> trainerType = loader.loadClass("dev.flinkrwkv.train.Rwkv7Trainer");
            Class<?> settingsType = loader.loadClass("dev.flinkrwkv.train.Rwkv7Trainer$Settings");
            Object settings = settingsType.getConstructor(int.class, int.class, int.class).newInstance(64, 8, threads);
            trainer = trainerType.getMethod("create", shapeType, long.class, dataType, settingsType)
                    .invoke(null, shape, 1L, data, settings);
            step = trainerType.getMethod("step", double.class, double.class);
        }

        void steps(int n) throws Exception {
            for (int i = 0; i < n; i++) {
                step.invoke(trainer, 1e-3, 1.0);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 8) {
            System.err.println("usage: FitStepAB INPUT EMBED LAYERS WARMUP BLOCK ROUNDS THREADS JAR...");
            System.exit(2);
        }
        byte[] bytes = Files.readAllBytes(Path.of(args[0]));
        int embed = Integer.parseInt(args[1]), layers = Integer.parseInt(args[2]), warmup = Integer.parseInt(args[3]),
                block = Integer.parseInt(args[4]), rounds = Integer.parseInt(args[5]), threads = Integer.parseInt(args[6]);
        int count = args.length - 7;
        Build[] builds = new Build[count];
        for (int b = 0; b < count; b++) {
            builds[b] = new Build(args[7 + b], bytes, embed, layers, threads);
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        for (Build b : builds) {
            b.steps(warmup);
        }
        double[][] cpu = new double[count][rounds], wall = new double[count][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int j = 0; j < count; j++) {
                int b = r % 2 == 0 ? j : count - 1 - j;
                long cpu0 = os.getProcessCpuTime(), wall0 = System.nanoTime();
                builds[b].steps(block);
                cpu[b][r] = (os.getProcessCpuTime() - cpu0) / 1e6 / block;
                wall[b][r] = (System.nanoTime() - wall0) / 1e6 / block;
            }
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "round %d (load %.1f):", r,
                    os.getSystemLoadAverage()));
            for (int b = 0; b < count; b++) {
                line.append(String.format(Locale.ROOT, "  %d: %.1f CPU ms, %.1f wall ms", b, cpu[b][r], wall[b][r]));
            }
            for (int b = 1; b < count; b++) {
                line.append(String.format(Locale.ROOT, "  CPU 0/%d %.2f", b, cpu[0][r] / cpu[b][r]));
            }
            System.out.println(line);
        }
        for (int b = 0; b < count; b++) {
            System.out.printf(Locale.ROOT, "build %d (%s): median %.1f CPU ms, %.1f wall ms per step%n", b, args[7 + b],
                    median(cpu[b]), median(wall[b]));
        }
        for (int b = 1; b < count; b++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = cpu[0][r] / cpu[b][r];
            }
            Arrays.sort(ratio);
            System.out.printf(Locale.ROOT, "CPU per step, build 0 / build %d: median %.2f (%.2f-%.2f)%n", b,
                    median(ratio), ratio[0], ratio[rounds - 1]);
        }
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
