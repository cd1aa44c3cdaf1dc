package dev.flinkrwkv.jobs.cluster;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The JVMs a test starts (JobManager, TaskManagers, the broker, the Flink client), each by its own
 * {@link Process} handle: only these are ever signalled, and all of them are stopped by {@link #close()} and,
 * should the test JVM itself be stopped first, by a shutdown hook.
 */
final class ChildProcesses implements AutoCloseable {
    private final List<Process> started = new CopyOnWriteArrayList<>();
    private final Thread hook = new Thread(this::stopAll, "stop-child-processes");

    ChildProcesses() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The java executable running this test, so that every child runs on the same JDK. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Starts {@code java jvmOptions -cp classPath mainClass args}, its stdout and stderr appended to {@code log}.
     */
    Process startJava(List<String> jvmOptions, String classPath, String mainClass, List<String> args,
                      Map<String, String> env, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    /** Waits at most {@code seconds} for {@code p} to end; its exit code, or fails naming {@code what}. */
    static int waitFor(Process p, long seconds, String what) throws InterruptedException {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(what + " did not end within " + seconds + " s");
        }
        return p.exitValue();
    }

    /** SIGKILL, as a machine that dies; returns once the process is gone (at most 30 s). */
    static void kill(Process p) throws InterruptedException {
        p.destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("process " + p.pid() + " still alive 30 s after SIGKILL");
        }
    }

    /** SIGTERM to every process still running, then SIGKILL to those still there after 10 s. */
    private void stopAll() {
        for (Process p : started) {
            p.destroy();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Process p : started) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }

    /** The test JVM's class path as entries (surefire sets {@code java.class.path} to the real test class path). */
    static List<String> testClassPath() {
        return List.of(System.getProperty("java.class.path").split(File.pathSeparator));
    }
}
