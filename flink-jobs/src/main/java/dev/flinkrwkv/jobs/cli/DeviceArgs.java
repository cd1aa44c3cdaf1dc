package dev.flinkrwkv.jobs.cli;

import dev.flinkrwkv.backend.Backends;
import dev.flinkrwkv.backend.Device;
import dev.flinkrwkv.jobs.runtime.JobEnvironment;

/**
 * {@code --device auto|cpu|cuda}, which every command that evaluates the model takes: {@code auto} (the
 * default) runs on the GPU when a CUDA driver and a device are there, else on the CPU with one log line
 * saying why; {@code cuda} without a usable GPU stops the command at once, in one line.
 */
public final class DeviceArgs {
    public static final String USAGE = "[--device auto|cpu|cuda]";

    private DeviceArgs() {}

    /**
     * The device asked for. With {@code cuda}, a command that runs here (not one submitted with {@code flink
     * run}, whose task managers have their own GPUs or not) checks for the GPU now rather than in a task.
     *
     * @throws UsageException  for a name other than auto, cpu or cuda
     * @throws IllegalStateException with {@code cuda} where this process has no usable GPU
     */
    public static Device parse(Args a) {
        String name = a.string("device", Device.AUTO.toString());
        Device d;
        try {
            d = Device.parse(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        if (d == Device.CUDA && !JobEnvironment.underFlinkRun() && !Backends.cudaAvailable()) {
            throw new IllegalStateException("--device cuda, but no usable CUDA GPU: " + Backends.cudaStatus()
                    + " (use --device auto to fall back to the CPU)");
        }
        return d;
    }
}
