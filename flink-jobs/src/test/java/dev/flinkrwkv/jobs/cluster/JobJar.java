package dev.flinkrwkv.jobs.cluster;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The job jar the cluster test submits, built from the test's class path because {@code mvn test} runs before
 * {@code package} makes {@code flink-rwkv-job.jar}. It holds what that jar holds (see the shade plugin's
 * job-jar execution in the pom): our classes (flink-jobs and the operator library) at its root, and the
 * libraries a Flink distribution lacks (the Kafka connector and client, JCuda) as {@code lib/*.jar}, which
 * Flink's client puts on the job's class path like classes in the jar itself. Everything else, Flink included,
 * comes from the cluster.
 */
final class JobJar {
    private JobJar() {}

    /** The entries of the test class path that belong in the job jar, not on the cluster's class path. */
    static List<String> entries() {
        List<String> in = new ArrayList<>();
        for (String e : ChildProcesses.testClassPath()) {
            String name = Path.of(e).getFileName().toString();
            boolean ours = e.endsWith(File.separator + "classes") && !e.endsWith("test-classes")
                    || name.startsWith("flink-rwkv-operator-");
            boolean library = name.startsWith("flink-connector-kafka-") || name.startsWith("kafka-clients-")
                    || name.startsWith("jcuda");
            if (ours || library) {
                in.add(e);
            }
        }
        return in;
    }

    /** Writes the jar to {@code jar}. */
    static Path build(Path jar) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
            java.util.Set<String> written = new java.util.HashSet<>();
            for (String e : entries()) {
                Path p = Path.of(e);
                if (Files.isDirectory(p)) {
                    try (Stream<Path> files = Files.walk(p)) {
                        for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                            String name = p.relativize(f).toString().replace(File.separatorChar, '/');
                            if (!name.equals("META-INF/MANIFEST.MF") && written.add(name)) {
                                copy(out, name, f);
                            }
                        }
                    }
                } else {
                    copy(out, "lib/" + p.getFileName(), p);
                }
            }
        }
        return jar;
    }

    private static void copy(JarOutputStream out, String name, Path file) throws IOException {
        out.putNextEntry(new JarEntry(name));
        Files.copy(file, (OutputStream) out);
        out.closeEntry();
    }
}
