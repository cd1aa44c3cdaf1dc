package dev.flinkrwkv.backend;

import dev.flinkrwkv.backend.GpuBackendProvider.GpuStatus;
import dev.flinkrwkv.rwkv.RwkvEvaluator;
import dev.flinkrwkv.rwkv.RwkvModel;

import java.lang.System.Logger.Level;
import java.util.Iterator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Chooses and opens a {@link Backend}: {@code cpu}; {@code cuda} (fails at once with one line saying why
 * when there is no usable GPU); {@code auto}, the GPU when a driver, a device of compute capability 8.0+
 * and a model the kernels support are there, else the CPU, with one log line saying which and why.
 *
 * <p>The GPU backend is a service ({@link GpuBackendProvider}, looked up once per process), so choosing
 * the CPU loads no JCuda class and a CPU-only deployment needs neither JCuda nor its natives.
 *
 * <p>Logging goes through {@link System.Logger} (java.util.logging unless the application binds another
 * implementation), so the library needs no logging dependency.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());
    /**
     * The reasons for running on the CPU already logged: a process that opens a backend per key or per task
     * (eval-logs, the operator's subtasks in one TaskManager) says why once, not once per open.
     */
    private static final java.util.Set<String> FALLBACKS_SAID = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Backends() {}

    /** The GPU provider and its probe, found on first use (the probe takes about 0.3 s with a driver). */
    private static final class Gpu {
        static final GpuBackendProvider PROVIDER = find();
        static final GpuStatus STATUS = PROVIDER == null
                ? GpuStatus.none("no GPU backend on the class path (" + GpuBackendProvider.class.getName()
                        + " has no service)")
                : PROVIDER.status();

        private static GpuBackendProvider find() {
            try {
                Iterator<GpuBackendProvider> it =
                        ServiceLoader.load(GpuBackendProvider.class, Backends.class.getClassLoader()).iterator();
                return it.hasNext() ? it.next() : null;
            } catch (ServiceConfigurationError | LinkageError e) {
                LOG.log(Level.WARNING, "flink-rwkv: the GPU backend failed to load: " + e);
                return null;
            }
        }
    }

    /** Whether a CUDA driver and a usable device are present (probed once per process). */
    public static boolean cudaAvailable() {
        return Gpu.STATUS.available();
    }

    /** The CUDA device, or why there is none, in words. */
    public static String cudaStatus() {
        return Gpu.STATUS.description();
    }

    /** {@link #open(Device, RwkvModel)} with the device by name ({@code auto}, {@code cpu}, {@code cuda}). */
    public static Backend open(String device, RwkvModel model) {
        return open(Device.parse(device), model);
    }

    /** A new backend session for {@code model} on {@code device}, one CPU thread (see the class comment). */
    public static Backend open(Device device, RwkvModel model) {
        return open(device, model, 1);
    }

    /** As {@link #open(Device, RwkvModel, int, int)} with the evaluator's default rows per pass. */
    public static Backend open(Device device, RwkvModel model, int threads) {
        return open(device, model, threads, RwkvEvaluator.DEFAULT_MAX_BATCH_TOKENS);
    }

    /**
     * A new backend session for {@code model} on {@code device}; on the CPU each matrix product is split over
     * {@code threads} threads and a pass evaluates at most {@code maxBatchTokens} rows (both unused on a GPU).
     */
    public static Backend open(Device device, RwkvModel model, int threads, int maxBatchTokens) {
        switch (device) {
            case CPU:
                return new CpuBackend(model, threads, maxBatchTokens);
            case CUDA:
                String why = whyNotCuda(model);
                if (why != null) {
                    throw new IllegalStateException("device cuda asked for, but " + why
                            + " (use --device auto to fall back to the CPU)");
                }
                return logged(Gpu.PROVIDER.open(model));
            case AUTO:
            default:
                String whyNot = whyNotCuda(model);
                if (whyNot != null) {
                    if (FALLBACKS_SAID.add(whyNot)) {
                        LOG.log(Level.INFO, "flink-rwkv: running on the CPU: " + whyNot);
                    }
                    return new CpuBackend(model, threads, maxBatchTokens);
                }
                try {
                    return logged(Gpu.PROVIDER.open(model));
                } catch (RuntimeException | LinkageError e) {
                    LOG.log(Level.WARNING, "flink-rwkv: running on the CPU: the GPU " + cudaStatus()
                            + " failed to start: " + e.getMessage());
                    return new CpuBackend(model, threads, maxBatchTokens);
                }
        }
    }

    /** Forgets the reasons logged, so that a test sees the line again. */
    static void forgetLoggedFallbacks() {
        FALLBACKS_SAID.clear();
    }

    private static Backend logged(Backend gpu) {
        LOG.log(Level.INFO, "flink-rwkv: running on the GPU " + gpu.name());
        return gpu;
    }

    /** Why {@code model} cannot run on a GPU here, or null when it can. */
    private static String whyNotCuda(RwkvModel model) {
        if (!Gpu.STATUS.available()) {
            return "no usable CUDA GPU: " + Gpu.STATUS.description();
        }
        String why = Gpu.PROVIDER.unsupported(model);
        return why == null ? null : model.file().path().getFileName() + " cannot run on the GPU: " + why;
    }
}
