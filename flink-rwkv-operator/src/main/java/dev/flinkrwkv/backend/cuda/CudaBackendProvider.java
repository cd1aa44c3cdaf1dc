package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.backend.Backend;
import dev.flinkrwkv.backend.GpuBackendProvider;
import dev.flinkrwkv.rwkv.RwkvModel;

/**
 * The CUDA backend as a {@link GpuBackendProvider} (registered in {@code META-INF/services}). This class
 * names no JCuda type, so it loads where JCuda is missing; {@link #status()} then says so.
 */
public final class CudaBackendProvider implements GpuBackendProvider {
    @Override
    public GpuStatus status() {
        try {
            CudaDevice.Probe p = CudaDevice.probe();
            return new GpuStatus(p.available, p.description);
        } catch (LinkageError e) {
            return GpuStatus.none("JCuda is not on the class path (org.jcuda:jcuda is an optional dependency of"
                    + " flink-rwkv-operator; add it to run on a GPU): " + e);
        }
    }

    @Override
    public String unsupported(RwkvModel model) {
        return CudaBackend.unsupported(model);
    }

    @Override
    public Backend open(RwkvModel model) {
        return new CudaBackend(model);
    }
}
