package dev.flinkrwkv.jobs.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Follows a directory written by {@link Output#files} and hands each line of each newly committed part file
 * to a callback on a daemon thread: the file-output counterpart of following a topic read_committed. A
 * part file becomes visible (renamed from its hidden in-progress name) when the checkpoint that finished it
 * completes, and is never written again, so a visible file is read once, whole. Files there at the start
 * (an {@code --append} run) are skipped. {@link #close()} reads what is committed by then, so a bounded
 * job's last checkpoint is shown too.
 */
public final class CommittedFiles implements AutoCloseable {
    private final Path dir;
    private final Consumer<byte[]> onLine;
    private final Set<Path> seen = new HashSet<>();
    private final Thread thread;
    private volatile boolean stop;

    private CommittedFiles(Path dir, Consumer<byte[]> onLine) {
        this.dir = dir;
        this.onLine = onLine;
        seen.addAll(visibleParts());
        this.thread = new Thread(this::loop, "flink-rwkv-committed-files");
        this.thread.setDaemon(true);
    }

    public static CommittedFiles start(Path dir, Consumer<byte[]> onLine) {
        CommittedFiles f = new CommittedFiles(dir, onLine);
        f.thread.start();
        return f;
    }

    private void loop() {
        while (!stop) {
            readNew();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void readNew() {
        for (Path p : visibleParts()) {
            if (seen.add(p)) {
                byte[] b;
                try {
                    b = Files.readAllBytes(p);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read the output file " + p, e);
                }
                for (int start = 0; start < b.length; ) {
                    int nl = start;
                    while (nl < b.length && b[nl] != '\n') {
                        nl++;
                    }
                    if (nl > start) {
                        onLine.accept(java.util.Arrays.copyOfRange(b, start, nl));
                    }
                    start = nl + 1;
                }
            }
        }
    }

    /** The committed part files, oldest first (the order they were written in). */
    private List<Path> visibleParts() {
        List<Path> parts = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return parts;
        }
        try (var list = Files.list(dir)) {
            list.filter(p -> p.getFileName().toString().startsWith("part-") && Files.isRegularFile(p)).forEach(parts::add);
        } catch (IOException e) {
            return parts;
        }
        parts.sort(Comparator.comparing(CommittedFiles::modified).thenComparing(Path::toString));
        return parts;
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        readNew();
    }
}
