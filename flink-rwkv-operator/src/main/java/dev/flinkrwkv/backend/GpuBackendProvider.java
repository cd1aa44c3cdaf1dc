package dev.flinkrwkv.backend;

import dev.flinkrwkv.rwkv.RwkvModel;

/**
 * The GPU backend as a service ({@code META-INF/services}), found by {@link Backends} through
 * {@link java.util.ServiceLoader}: no class outside {@code backend.cuda} refers to it by name, so a job that
 * runs on the CPU loads no JCuda class, and JCuda (an optional dependency of the library) with its natives
 * need not be on its class path at all.
 *
 * <p>An implementation must load without JCuda: it touches JCuda only inside its methods, and
 * {@link #status()} reports a missing JCuda as a reason rather than throwing.
 */
public interface GpuBackendProvider {
    /** Whether a driver and a usable device are there; never throws. */
    GpuStatus status();

    /** Why {@code model} cannot run on the GPU (the kernels' shape limits), or null when it can. */
    String unsupported(RwkvModel model);

    /** A new session for {@code model} on the device; only called when {@link #status()} is available. */
    Backend open(RwkvModel model);

    /** The probe's outcome: the device in words, or why there is none. */
    record GpuStatus(boolean available, String description) {
        public static GpuStatus none(String why) {
            return new GpuStatus(false, why);
        }
    }
}
