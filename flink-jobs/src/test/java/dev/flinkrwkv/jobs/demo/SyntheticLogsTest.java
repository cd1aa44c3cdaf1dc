package dev.flinkrwkv.jobs.demo;

import dev.flinkrwkv.jobs.demo.SyntheticLogs.Label;
import dev.flinkrwkv.jobs.demo.SyntheticLogs.Line;
import dev.flinkrwkv.jobs.logs.LabelledLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticLogsTest {
    @Test
    void sameSeedSameLinesOtherSeedOtherLines() {
        List<Line> a = new SyntheticLogs(7, 0.05).next(2000);
        assertEquals(a, new SyntheticLogs(7, 0.05).next(2000));
        assertNotEquals(a, new SyntheticLogs(8, 0.05).next(2000));
    }

    @Test
    void everyKindAppearsAtItsShareOfTheRate() {
        double rate = 0.08;
        SyntheticLogs g = new SyntheticLogs(3, rate);
        Map<Long, Label> eventKind = new HashMap<>();
        for (Line l : g.next(60_000)) {
            if (l.label().anomalous()) {
                Label before = eventKind.put(l.event(), l.label());
                assertTrue(before == null || before == l.label(), "an event has one anomaly kind");
            }
        }
        long events = g.events();
        Map<Label, Integer> perKind = new EnumMap<>(Label.class);
        eventKind.values().forEach(k -> perKind.merge(k, 1, Integer::sum));
        // A sequence anomaly may be a swap or a skip; either way the event counts once.
        assertEquals(rate, eventKind.size() / (double) events, 0.01, "anomalous events / events");
        for (Label k : new Label[] {Label.UNSEEN, Label.SEQUENCE, Label.VALUE, Label.BURST}) {
            assertEquals(rate / 4, perKind.getOrDefault(k, 0) / (double) events, 0.006, k + " events / events");
        }
    }

    @Test
    void labelsMatchWhatTheLinesShow() {
        List<Line> lines = new SyntheticLogs(11, 0.1).next(20_000);
        Set<String> normalMessages = new HashSet<>();
        Pattern ms = Pattern.compile(" in (\\d+) ms$");
        Pattern bytes = Pattern.compile(" (-?\\d+) bytes in ");
        Map<Long, Set<String>> burstTexts = new HashMap<>();
        for (Line l : lines) {
            String msg = l.text().split(" ", 3)[2];
            Matcher m = ms.matcher(l.text());
            Matcher b = bytes.matcher(l.text());
            boolean odd = (m.find() && Long.parseLong(m.group(1)) > 100_000) || (b.find() && Long.parseLong(b.group(1)) < 0)
                    || l.text().contains("/../") || l.text().matches(".* [6-9]\\d\\d (GET|POST) .*");
            assertEquals(l.label() == Label.VALUE, odd, "odd value iff labelled VALUE: " + l.text());
            boolean kernelLike = msg.startsWith("kernel:") || msg.startsWith("systemd") || msg.startsWith("sshd")
                    || msg.startsWith("nginx");
            assertEquals(l.label() == Label.UNSEEN, kernelLike, l.text());
            assertEquals(l.label() == Label.BURST, msg.contains("ERROR"), l.text());
            if (l.label() == Label.BURST) {
                burstTexts.computeIfAbsent(l.event(), e -> new HashSet<>()).add(l.text().substring(24));
            }
            if (l.label() == Label.NORMAL) {
                normalMessages.add(msg.replaceAll("\\d+", "N"));
            }
        }
        assertFalse(burstTexts.isEmpty());
        burstTexts.values().forEach(t -> assertEquals(1, t.size(), "a burst repeats one message"));
        assertTrue(normalMessages.size() > 20, "normal traffic has many message shapes");
    }

    @Test
    void brokenSequencesDepartFromTheSessionTemplate() {
        List<Line> lines = new SyntheticLogs(5, 0.2).next(20_000);
        int seen = 0;
        for (int i = 0; i < lines.size(); i++) {
            Line l = lines.get(i);
            if (l.label() != Label.SEQUENCE) {
                continue;
            }
            seen++;
            String req = l.text().replaceAll(".* req=(\\w+) .*", "$1");
            // The session's request line came before, on the same event.
            boolean requestBefore = false;
            for (int j = i - 1; j >= 0 && lines.get(j).event() == l.event(); j--) {
                requestBefore |= lines.get(j).text().contains("req=" + req + " ") && lines.get(j).text().contains(" from ");
            }
            assertTrue(requestBefore, l.text());
            boolean skippedAuth = !l.text().contains(" auth ") && lines.get(i - 1).text().contains(" from ");
            boolean responseEarly = l.text().contains(" bytes in ") || lines.get(i - 1).label() == Label.SEQUENCE;
            assertTrue(skippedAuth || responseEarly, "departs from request -> auth -> query -> response: " + l.text());
        }
        assertTrue(seen > 50);
    }

    @Test
    void trainingFileIsNormalAndTheLabelledFileReadsAsBgl(@TempDir Path dir) throws Exception {
        Path train = dir.resolve("train.log");
        SyntheticLogs.writeTraining(train, 1, 500);
        List<String> t = Files.readAllLines(train, StandardCharsets.UTF_8);
        assertEquals(500, t.size());
        List<Line> normal = new SyntheticLogs(1, 0).next(500);
        for (int i = 0; i < t.size(); i++) {
            assertEquals(normal.get(i).text(), t.get(i));
            assertEquals(Label.NORMAL, normal.get(i).label());
        }

        List<Line> lines = new SyntheticLogs(2, 0.1).next(1000);
        Path labelled = dir.resolve("stream.log");
        SyntheticLogs.writeLabelled(labelled, lines);
        LabelledLog log = LabelledLog.readBgl(labelled);
        assertEquals(lines.size(), log.size());
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(lines.get(i).text(), new String(log.text(i), StandardCharsets.UTF_8));
            assertEquals(lines.get(i).label().anomalous(), log.anomalous(i));
            assertEquals(lines.get(i).label().category(), log.category(i));
        }
    }

    @Test
    void linesAreKeyedByHostAndOrderedInTime() {
        Pattern key = Pattern.compile(SyntheticLogs.KEY_PATTERN);
        String previous = "";
        for (Line l : new SyntheticLogs(9, 0.05).next(3000)) {
            Matcher m = key.matcher(l.text());
            assertTrue(m.find());
            assertTrue(m.group(1).startsWith("web-0"), l.text());
            String time = l.text().substring(0, 24);
            assertTrue(time.compareTo(previous) >= 0, "timestamps never go back");
            previous = time;
        }
    }
}
