package dev.flinkrwkv.backend;

import dev.flinkrwkv.backend.cuda.CudaBackend;
import dev.flinkrwkv.backend.cuda.CudaDevice;
import dev.flinkrwkv.rwkv.RwkvModel;

import java.lang.System.Logger.Level;

/**
 * Chooses and opens a {@link Backend}: {@code cpu}; {@code cuda} (fails with a message that says why
 * when there is no usable GPU); {@code auto}, the GPU when a driver, a device of compute capability 8.0+
 * and a model the kernels support are there, else the CPU, with one log line saying which and why.
 *
 * <p>Logging goes through {@link System.Logger} (java.util.logging unless the application binds another
 * implementation), so the library needs no logging dependency.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    private Backends() {}

    /** Whether a CUDA driver and a usable device are present (probed once per process). */
    public static boolean cudaAvailable() {
        return CudaDevice.probe().available;
    }

    /** The CUDA device, or why there is none, in words. */
    public static String cudaStatus() {
        return CudaDevice.probe().description;
    }

    /** {@link #open(Device, RwkvModel)} with the device by name ({@code auto}, {@code cpu}, {@code cuda}). */
    public static Backend open(String device, RwkvModel model) {
        return open(Device.parse(device), model);
    }

    /** A new backend session for {@code model} on {@code device} (see the class comment). */
    public static Backend open(Device device, RwkvModel model) {
        switch (device) {
            case CPU:
                return new CpuBackend(model);
            case CUDA:
                return openCuda(model);
            case AUTO:
            default:
                String why = whyNotCuda(model);
                if (why != null) {
                    LOG.log(Level.INFO, "flink-rwkv: running on the CPU: " + why);
                    return new CpuBackend(model);
                }
                try {
                    Backend b = new CudaBackend(model);
                    LOG.log(Level.INFO, "flink-rwkv: running on the GPU " + b.name());
                    return b;
                } catch (RuntimeException | LinkageError e) {
                    LOG.log(Level.WARNING, "flink-rwkv: running on the CPU: the GPU " + cudaStatus()
                            + " failed to start: " + e.getMessage());
                    return new CpuBackend(model);
                }
        }
    }

    private static Backend openCuda(RwkvModel model) {
        String why = whyNotCuda(model);
        if (why != null) {
            throw new IllegalStateException("device cuda asked for, but " + why
                    + " (use --device auto to fall back to the CPU)");
        }
        return new CudaBackend(model);
    }

    /** Why {@code model} cannot run on a GPU here, or null when it can. */
    private static String whyNotCuda(RwkvModel model) {
        CudaDevice.Probe p = CudaDevice.probe();
        if (!p.available) {
            return "no usable CUDA GPU: " + p.description;
        }
        String why = CudaBackend.unsupported(model);
        return why == null ? null : model.file().path().getFileName() + " cannot run on the GPU: " + why;
    }
}
