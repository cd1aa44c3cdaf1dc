package dev.flinkrwkv.jobs.demo;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A seeded generator of realistic service logs with injected, labelled anomalies: the demo's data, so that
 * the demo needs no downloaded data set and knows the answer for every line.
 *
 * <p><b>Normal traffic.</b> Four hosts each run a web front end; a <em>session</em> on a host is a short
 * fixed sequence of lines from several services (gateway, auth, a database or cache, payments), for example
 * {@code request -> token verified -> query -> response}. The lines are filled-in templates with variable
 * fields: request ids, client IPs, user names, paths with ids, durations, sizes, row counts. Events
 * (sessions, and background lines: health checks, cache evictions, GC, slow-query warnings) follow one
 * another on randomly chosen hosts, so the merged log alternates hosts while each host's own history,
 * which score-logs keys on, is an unbroken sequence of its sessions: an order a model can learn. A line is
 * {@code time host program LEVEL message}: the ISO timestamp and the host first, so score-logs can key by host
 * ({@link #KEY_PATTERN}), then the program, so that the message body (after the fields with digits) starts
 * with which program speaks, the first thing a step out of order gets wrong.
 *
 * <p><b>Anomalies</b>, injected in place of a normal event with probability {@code anomalyRate}, split
 * evenly over four kinds ({@link Label}):
 * <ul>
 *   <li>{@link Label#UNSEEN}: one line of a message type that never occurs in normal traffic (out of
 *       memory kills, read-only file systems, certificate expiry ...).</li>
 *   <li>{@link Label#SEQUENCE}: a session whose steps are broken: the auth step is missing (the request is
 *       answered without it), or the response comes before the query. The line where the session first
 *       departs from its template is labelled (both lines of a swap); the other lines are normal.</li>
 *   <li>{@link Label#VALUE}: a normal session in which one field has an odd value: a latency of about
 *       10^6 ms, a negative size, a garbled path, an impossible status code. That line is labelled.</li>
 *   <li>{@link Label#BURST}: the same error repeated 6 to 14 times within a few milliseconds; every line
 *       of the burst is labelled.</li>
 * </ul>
 * The generator is a pure function of its seed and settings (one {@link SplittableRandom}, no clock).
 */
public final class SyntheticLogs {
    /** score-logs' {@code --key-pattern} for these lines: the host, the second field. */
    public static final String KEY_PATTERN = "^\\S+ (\\S+)";

    /** A line's truth: normal, or the kind of anomaly it belongs to. */
    public enum Label {
        NORMAL("-"), UNSEEN("UNSEEN"), SEQUENCE("SEQUENCE"), VALUE("VALUE"), BURST("BURST");

        private final String category;

        Label(String category) {
            this.category = category;
        }

        /** The first field of a labelled file's line: {@code -} for normal (the BGL convention), else the kind. */
        public String category() {
            return category;
        }

        public boolean anomalous() {
            return this != NORMAL;
        }
    }

    /**
     * One generated line.
     *
     * @param event the number of the event (session, background line, burst) it belongs to, from 0
     */
    public record Line(String text, Label label, long event) {}

    private static final String[] HOSTS = {"web-01", "web-02", "web-03", "web-04"};
    private static final String[] USERS = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
            "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter"};
    private static final String[] DB_HOSTS = {"10.0.5.11", "10.0.5.12"};
    private static final String[] TABLES = {"orders", "order_items", "customers", "inventory"};
    private static final String[] UNSEEN_MESSAGES = {
            "kernel: Out of memory: Killed process %d (java) total-vm:%dkB, anon-rss:%dkB",
            "kernel: EXT4-fs error (device sdb1): remounting filesystem read-only",
            "nginx[%d]: SSL certificate /etc/ssl/api.pem has expired (notAfter=2026-11-01)",
            "systemd[1]: payments.service: Main process exited, code=killed, status=9/KILL",
            "sshd[%d]: Accepted publickey for root from %s port %d ssh2",
            "kernel: NETDEV WATCHDOG: eth0 (ixgbe): transmit queue 3 timed out",
    };
    private static final String[] BURST_ERRORS = {
            "orders-db ERROR connection refused to %s:5432 (pool exhausted)",
            "gateway ERROR upstream payments timed out after 30000 ms",
            "auth ERROR token signing key unavailable: vault sealed",
    };
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final long START_MILLIS = Instant.parse("2026-11-23T08:00:00Z").toEpochMilli();

    private final SplittableRandom random;
    private final double anomalyRate;
    private final ArrayDeque<Line> pending = new ArrayDeque<>();
    private long clock = START_MILLIS;
    private long events;

    /** @param anomalyRate the probability that an event is an injected anomaly, in [0, 1) */
    public SyntheticLogs(long seed, double anomalyRate) {
        if (!(anomalyRate >= 0 && anomalyRate < 1)) {
            throw new IllegalArgumentException("anomaly rate must be in [0, 1): " + anomalyRate);
        }
        this.random = new SplittableRandom(seed);
        this.anomalyRate = anomalyRate;
    }

    /** The next line. */
    public Line next() {
        while (pending.isEmpty()) {
            nextEvent();
        }
        return pending.poll();
    }

    /** The next {@code n} lines. */
    public List<Line> next(int n) {
        List<Line> lines = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            lines.add(next());
        }
        return lines;
    }

    /** Events started so far (sessions, background lines, bursts). */
    public long events() {
        return events;
    }

    /** Writes {@code n} normal lines (anomaly rate 0), one per line: the text to fit a model on. */
    public static void writeTraining(Path file, long seed, int n) throws IOException {
        SyntheticLogs g = new SyntheticLogs(seed, 0);
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int i = 0; i < n; i++) {
                w.write(g.next().text());
                w.write('\n');
            }
        }
    }

    /**
     * Writes lines as a labelled file in the BGL convention ({@code LABEL text}, {@code -} for normal), which
     * {@code eval-logs} reads and whose label is cut off before scoring.
     */
    public static void writeLabelled(Path file, List<Line> lines) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Line l : lines) {
                w.write(l.label().category());
                w.write(' ');
                w.write(l.text());
                w.write('\n');
            }
        }
    }

    private void nextEvent() {
        events++;
        int host = random.nextInt(HOSTS.length);
        clock += 1 + (long) (-Math.log(1 - random.nextDouble()) * 40);  // ~25 events per second
        if (random.nextDouble() < anomalyRate) {
            switch (random.nextInt(4)) {
                case 0 -> unseen(host);
                case 1 -> session(host, Label.SEQUENCE);
                case 2 -> session(host, Label.VALUE);
                default -> burst(host);
            }
        } else if (random.nextDouble() < 0.15) {
            background(host);
        } else {
            session(host, Label.NORMAL);
        }
    }

    /** One session: its template's lines, normal, or with the one defect {@code kind} asks for. */
    private void session(int host, Label kind) {
        String req = hex(8);
        String user = USERS[random.nextInt(USERS.length)];
        String ip = "10.0." + (1 + random.nextInt(3)) + "." + (2 + random.nextInt(250));
        int type = random.nextInt(4);
        List<String> steps = new ArrayList<>();
        int db = random.nextInt(DB_HOSTS.length);
        long id = 10000 + random.nextInt(90000);
        int queryMs = 1 + random.nextInt(40);
        String method;
        String path;
        String auth = "auth INFO req=" + req + " token verified for user=" + user
                + " scopes=" + (random.nextBoolean() ? "read" : "read,write");
        String query;
        int status;
        long size;
        switch (type) {
            case 0 -> {
                method = "GET";
                path = "/api/v1/orders/" + id;
                query = "orders-db DEBUG req=" + req + " SELECT * FROM " + TABLES[random.nextInt(2)]
                        + " WHERE id=" + id + " rows=" + (1 + random.nextInt(12)) + " took " + queryMs + " ms on " + DB_HOSTS[db];
                status = random.nextInt(20) == 0 ? 404 : 200;
                size = 200 + random.nextInt(4000);
            }
            case 1 -> {
                method = "POST";
                path = "/api/v1/orders";
                query = "orders-db DEBUG req=" + req + " INSERT INTO orders id=" + id
                        + " took " + queryMs + " ms on " + DB_HOSTS[db];
                status = 201;
                size = 60 + random.nextInt(120);
            }
            case 2 -> {
                method = "GET";
                path = "/api/v1/customers/" + user + "/profile";
                query = "cache DEBUG req=" + req + " " + (random.nextInt(4) == 0 ? "miss" : "hit")
                        + " key=profile:" + user + " in " + random.nextInt(3) + " ms";
                status = 200;
                size = 300 + random.nextInt(900);
            }
            default -> {
                method = "POST";
                path = "/api/v1/payments";
                query = "payments INFO req=" + req + " charge id=ch_" + hex(10) + " amount="
                        + (1 + random.nextInt(500)) + "." + String.format(Locale.ROOT, "%02d", random.nextInt(100))
                        + " EUR " + (random.nextInt(25) == 0 ? "declined" : "approved") + " in " + (80 + random.nextInt(400)) + " ms";
                status = 200;
                size = 90 + random.nextInt(60);
            }
        }
        int totalMs = queryMs + 2 + random.nextInt(30);
        int oddField = kind == Label.VALUE ? random.nextInt(4) : -1;
        String shownPath = oddField == 2 ? garble(path) : path;
        if (oddField == 0) {
            totalMs = 900_000 + random.nextInt(200_000);
        }
        if (oddField == 1) {
            size = -(1 + random.nextInt(5000));
        }
        if (oddField == 3) {
            status = 600 + random.nextInt(400);
        }
        steps.add("gateway INFO req=" + req + " " + method + " " + shownPath + " from " + ip
                + " user=" + user);
        steps.add(auth);
        steps.add(query);
        steps.add("gateway INFO req=" + req + " " + status + " " + method + " " + path
                + " " + size + " bytes in " + totalMs + " ms");

        Label[] labels = new Label[steps.size()];
        java.util.Arrays.fill(labels, Label.NORMAL);
        if (kind == Label.VALUE) {
            labels[oddField == 2 ? 0 : 3] = Label.VALUE;
        } else if (kind == Label.SEQUENCE) {
            if (random.nextBoolean()) {
                steps.remove(1);  // auth skipped: the query follows the request directly
                labels = new Label[] {Label.NORMAL, Label.SEQUENCE, Label.NORMAL};
            } else {
                Collections.swap(steps, 2, 3);  // the response before the query
                labels[2] = Label.SEQUENCE;
                labels[3] = Label.SEQUENCE;
            }
        }
        for (int i = 0; i < steps.size(); i++) {
            emit(host, steps.get(i), labels[i]);
            clock += 1 + random.nextInt(queryMs + 3);
        }
    }

    private void background(int host) {
        String text = switch (random.nextInt(4)) {
            case 0 -> "gateway INFO GET /healthz from 10.0.0.1 200 in " + random.nextInt(3) + " ms";
            case 1 -> "cache INFO evicted " + (1 + random.nextInt(400)) + " keys, "
                    + (100 + random.nextInt(900)) + " MB used of 1024 MB";
            case 2 -> "jvm INFO GC pause (G1 Young) " + (2 + random.nextInt(30)) + " ms, heap "
                    + (300 + random.nextInt(600)) + "M->" + (100 + random.nextInt(200)) + "M";
            default -> "orders-db WARN slow query on " + DB_HOSTS[random.nextInt(2)] + " took "
                    + (200 + random.nextInt(600)) + " ms (threshold 200 ms)";
        };
        emit(host, text, Label.NORMAL);
    }

    private void unseen(int host) {
        String template = UNSEEN_MESSAGES[random.nextInt(UNSEEN_MESSAGES.length)];
        String text = template.contains("%s")
                ? String.format(Locale.ROOT, template, 1000 + random.nextInt(30000), "203.0.113." + random.nextInt(255),
                        1024 + random.nextInt(60000))
                : String.format(Locale.ROOT, template, 1000 + random.nextInt(30000), 1_000_000 + random.nextInt(9_000_000),
                        500_000 + random.nextInt(4_000_000));
        emit(host, text, Label.UNSEEN);
    }

    private void burst(int host) {
        String template = BURST_ERRORS[random.nextInt(BURST_ERRORS.length)];
        String text = String.format(Locale.ROOT, template, DB_HOSTS[random.nextInt(2)]);
        int n = 6 + random.nextInt(9);
        for (int i = 0; i < n; i++) {
            emit(host, text, Label.BURST);
            clock += random.nextInt(3);
        }
    }

    private void emit(int host, String message, Label label) {
        pending.add(new Line(TIME.format(Instant.ofEpochMilli(clock)) + " " + HOSTS[host] + " " + message, label, events - 1));
    }

    private String hex(int digits) {
        StringBuilder s = new StringBuilder(digits);
        for (int i = 0; i < digits; i++) {
            s.append(Character.forDigit(random.nextInt(16), 16));
        }
        return s.toString();
    }

    /** A path with some characters replaced by junk, as from a broken client or an attack. */
    private String garble(String path) {
        String junk = "%\u00ff\\~^|{}#";
        StringBuilder s = new StringBuilder(path);
        int n = 3 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            int at = 1 + random.nextInt(s.length() - 1);
            s.setCharAt(at, junk.charAt(random.nextInt(junk.length())));
        }
        return s.append("/../../etc/passwd").toString();
    }
}
