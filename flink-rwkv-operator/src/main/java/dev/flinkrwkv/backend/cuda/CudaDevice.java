package dev.flinkrwkv.backend.cuda;

import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

/**
 * The process's CUDA device, through the JCuda driver API (which needs only the NVIDIA driver's
 * {@code libcuda}, no toolkit): the one-time probe, the device's primary context (shared by every thread,
 * so every Flink task thread on this task manager sees the same weights), and the kernels loaded from the
 * PTX packaged in the jar.
 *
 * <p>The probe never throws: without a driver, JCuda's first touch of {@code JCudaDriver} throws an
 * {@link UnsatisfiedLinkError} ({@code libcuda.so.1} missing) and every later touch a
 * {@link NoClassDefFoundError}; both are caught once and remembered, with the reason.
 *
 * <p>PTX: {@code native/rwkv-sm90.ptx.gz} for compute capability 9.x and newer, {@code rwkv-sm80.ptx.gz}
 * for 8.x; the driver compiles it for the actual GPU on load. nvcc 13 writes PTX ISA 9.0, which a driver
 * older than CUDA 13 (R580) refuses; the loader then retries with the {@code .version} line lowered to
 * what the driver supports (the kernels use no instruction newer than PTX 7.0).
 *
 * <p>Device ordinal: system property {@code flinkrwkv.cuda.device} (default 0).
 */
public final class CudaDevice {
    /** Result of the one-time probe. */
    public static final class Probe {
        public final boolean available;
        /** The device (available) or why there is none (not available). */
        public final String description;
        final int ordinal, ccMajor, ccMinor, driverVersion;
        final long memoryBytes;

        private Probe(boolean available, String description, int ordinal, int ccMajor, int ccMinor,
                      int driverVersion, long memoryBytes) {
            this.available = available;
            this.description = description;
            this.ordinal = ordinal;
            this.ccMajor = ccMajor;
            this.ccMinor = ccMinor;
            this.driverVersion = driverVersion;
            this.memoryBytes = memoryBytes;
        }

        static Probe none(String why) {
            return new Probe(false, why, -1, 0, 0, 0, 0);
        }

        @Override
        public String toString() {
            return description;
        }
    }

    private static Probe probe;
    private static CudaDevice instance;

    final Probe info;
    final CUdevice device;
    final CUcontext context;
    final CUmodule module;
    final Kernels kernels;

    private CudaDevice(Probe info) {
        this.info = info;
        device = new CUdevice();
        cuDeviceGet(device, info.ordinal);
        context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        module = loadModule(ptxResource(info.ccMajor), info.driverVersion);
        kernels = new Kernels(module);
    }

    /** Probes for a driver and a usable device once per process (about 0.3 s the first time). */
    public static synchronized Probe probe() {
        if (probe == null) {
            probe = doProbe();
        }
        return probe;
    }

    private static Probe doProbe() {
        int ordinal = Integer.getInteger("flinkrwkv.cuda.device", 0);
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = {0};
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                return Probe.none("the NVIDIA driver reports no CUDA device");
            }
            if (ordinal < 0 || ordinal >= count[0]) {
                return Probe.none("CUDA device " + ordinal + " asked for (flinkrwkv.cuda.device), but there are "
                        + count[0]);
            }
            CUdevice d = new CUdevice();
            cuDeviceGet(d, ordinal);
            int[] major = {0}, minor = {0}, driver = {0};
            cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
            cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
            cuDriverGetVersion(driver);
            byte[] name = new byte[256];
            cuDeviceGetName(name, name.length, d);
            long[] mem = {0};
            cuDeviceTotalMem(mem, d);
            String n = cString(name);
            String desc = String.format("cuda:%d (%s, sm_%d%d, %.1f GiB, driver CUDA %d.%d)", ordinal, n, major[0],
                    minor[0], mem[0] / (double) (1L << 30), driver[0] / 1000, driver[0] % 1000 / 10);
            if (major[0] < 8) {
                return Probe.none(n + " has compute capability " + major[0] + "." + minor[0]
                        + "; the kernels need 8.0 (Ampere) or newer");
            }
            return new Probe(true, desc, ordinal, major[0], minor[0], driver[0], mem[0]);
        } catch (LinkageError e) {
            String m = String.valueOf(e.getMessage());
            // JCuda's message nests the loader's attempts; the one that matters names libcuda
            Matcher lib = Pattern.compile("(libcuda\\.so[.0-9]*: [^\\n]*)").matcher(m);
            return Probe.none("no NVIDIA driver (" + (lib.find() ? lib.group(1) : firstLine(e)) + ")");
        } catch (CudaException e) {
            return Probe.none("the CUDA driver failed (" + firstLine(e) + ")");
        } catch (RuntimeException e) {
            return Probe.none("JCuda could not start (" + firstLine(e) + ")");
        }
    }

    /** The process's device, set up on first use. Throws {@link IllegalStateException} when there is none. */
    static synchronized CudaDevice get() {
        Probe p = probe();
        if (!p.available) {
            throw new IllegalStateException("no usable CUDA GPU: " + p.description);
        }
        if (instance == null) {
            instance = new CudaDevice(p);
        }
        return instance;
    }

    /** The process's device (for tools that need it directly, such as the benchmark). */
    public static CudaDevice device() {
        return get();
    }

    /**
     * Measured device-to-device copy bandwidth in bytes per second, counting each byte read and written
     * (as NVIDIA's bandwidthTest does): the practical limit for a memory-bound kernel.
     */
    public double copyBandwidth(long bytes, int repetitions) {
        makeCurrent();
        CUdeviceptr a = new CUdeviceptr(), b = new CUdeviceptr();
        cuMemAlloc(a, bytes);
        cuMemAlloc(b, bytes);
        try {
            cuMemcpyDtoD(b, a, bytes);
            cuCtxSynchronize();
            long t0 = System.nanoTime();
            for (int i = 0; i < repetitions; i++) {
                cuMemcpyDtoD(b, a, bytes);
            }
            cuCtxSynchronize();
            double seconds = (System.nanoTime() - t0) / 1e9;
            return 2.0 * bytes * repetitions / seconds;
        } finally {
            cuMemFree(a);
            cuMemFree(b);
        }
    }

    /** The device in words, e.g. {@code cuda:0 (NVIDIA H100 ..., sm_90, 79.1 GiB, driver CUDA 13.0)}. */
    public String description() {
        return info.description;
    }

    /** Makes the shared context current on the calling thread (call at the start of every device call). */
    void makeCurrent() {
        cuCtxSetCurrent(context);
    }

    /** The PTX resource for a compute capability major version. */
    static String ptxResource(int ccMajor) {
        return ccMajor >= 9 ? "/native/rwkv-sm90.ptx.gz" : "/native/rwkv-sm80.ptx.gz";
    }

    /** The PTX text of a packaged resource (gunzipped). */
    static String readPtx(String resource) {
        try (InputStream in = CudaDevice.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the jar has no " + resource + " (run native/build.sh)");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new GZIPInputStream(in).transferTo(out);
            return out.toString(StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }

    private static final Pattern VERSION = Pattern.compile("(?m)^\\.version (\\d+)\\.(\\d+)\\s*$");

    private static CUmodule loadModule(String resource, int driverVersion) {
        String ptx = readPtx(resource);
        CUmodule m = new CUmodule();
        try {
            cuModuleLoadData(m, nulTerminated(ptx));
            return m;
        } catch (CudaException e) {
            String lowered = lowerVersion(ptx, driverVersion);
            if (lowered == null || !String.valueOf(e.getMessage()).contains("UNSUPPORTED_PTX_VERSION")) {
                String hint = String.valueOf(e.getMessage()).contains("UNSUPPORTED_PTX_VERSION")
                        ? " (the driver is too old for this PTX; update it to R580 / CUDA 13 or newer)" : "";
                throw new IllegalStateException("loading " + resource + " failed: " + e.getMessage() + hint, e);
            }
            try {
                cuModuleLoadData(m, nulTerminated(lowered));
                return m;
            } catch (CudaException e2) {
                throw new IllegalStateException("loading " + resource + " failed (" + e.getMessage()
                        + ", and again with PTX ISA " + ptxIsaFor(driverVersion) + ": " + e2.getMessage()
                        + "); update the NVIDIA driver to R580 (CUDA 13) or newer", e2);
            }
        }
    }

    /** The PTX with its {@code .version} lowered to the driver's, or null when that would not be lower. */
    static String lowerVersion(String ptx, int driverVersion) {
        String isa = ptxIsaFor(driverVersion);
        Matcher v = VERSION.matcher(ptx);
        if (isa == null || !v.find() || compareIsa(isa, v.group(1) + "." + v.group(2)) >= 0) {
            return null;
        }
        return v.replaceFirst(".version " + isa);
    }

    /**
     * The newest PTX ISA a driver of this CUDA version (1000*major + 10*minor) loads, from NVIDIA's PTX
     * release notes; null when unknown (too old).
     */
    static String ptxIsaFor(int driverVersion) {
        int major = driverVersion / 1000, minor = driverVersion % 1000 / 10;
        if (major >= 13) {
            return "9." + minor;
        }
        if (major == 12) {
            // 12.0..12.5 -> 8.0..8.5, 12.6 -> 8.5, 12.7 -> 8.6, 12.8 -> 8.7, 12.9 -> 8.8
            return "8." + (minor <= 5 ? minor : minor - 1);
        }
        if (major == 11 && minor >= 8) {
            return "7.8";
        }
        return null;
    }

    private static int compareIsa(String a, String b) {
        String[] x = a.split("\\."), y = b.split("\\.");
        int c = Integer.compare(Integer.parseInt(x[0]), Integer.parseInt(y[0]));
        return c != 0 ? c : Integer.compare(Integer.parseInt(x[1]), Integer.parseInt(y[1]));
    }

    private static byte[] nulTerminated(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.US_ASCII);
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
