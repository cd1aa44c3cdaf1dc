package dev.flinkrwkv.operator;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Reads {@link RwkvResult#toString()} lines back, and compares runs. */
final class ResultLines {
    private ResultLines() {}

    static RwkvResult parse(String line) {
        String[] f = line.split(" ");
        RwkvResult r = new RwkvResult();
        r.setKey(f[0]);
        r.setSeq(Long.parseLong(f[1]));
        r.setTag(f[2]);
        r.setTokens(Integer.parseInt(f[3]));
        r.setMeanBits(Double.parseDouble(f[4]));
        for (int i = 5; i < f.length; i++) {
            if (f[i].startsWith("lp=")) {
                r.setLogProbs(floats(f[i].substring(3)));
            } else if (f[i].startsWith("top=")) {
                String s = f[i].substring(4);
                int split = s.indexOf("][");
                r.setTopTokens(ints(s.substring(0, split + 1)));
                r.setTopLogProbs(floats(s.substring(split + 1)));
            }
        }
        return r;
    }

    private static float[] floats(String list) {
        String body = list.substring(1, list.length() - 1);
        if (body.isEmpty()) {
            return new float[0];
        }
        String[] p = body.split(",");
        float[] v = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            v[i] = Float.parseFloat(p[i]);
        }
        return v;
    }

    private static int[] ints(String list) {
        float[] f = floats(list);
        int[] v = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            v[i] = (int) f[i];
        }
        return v;
    }

    /** Results by tag (the record id). */
    static Map<Long, RwkvResult> byTag(Collection<String> lines) {
        Map<Long, RwkvResult> m = new TreeMap<>();
        for (String l : lines) {
            RwkvResult r = parse(l);
            RwkvResult old = m.put(Long.parseLong(r.getTag()), r);
            if (old != null) {
                throw new AssertionError("record " + r.getTag() + " emitted twice");
            }
        }
        return m;
    }

    /** Every expected record is there once, with the same key and number, and values within 1e-5. */
    static void assertMatches(List<RwkvResult> expected, Collection<String> lines) {
        Map<Long, RwkvResult> got = byTag(lines);
        assertEquals(expected.size(), got.size(), "records emitted");
        for (RwkvResult e : expected) {
            RwkvResult g = got.get(Long.parseLong(e.getTag()));
            if (g == null) {
                throw new AssertionError("record " + e.getTag() + " missing");
            }
            RaggedScorerTest.assertClose(e, g);
        }
    }

    /** The same lines, in any order (reports counts and the first difference, not the whole lists). */
    static void assertSameLines(Collection<String> expected, Collection<String> actual) {
        List<String> e = sorted(expected);
        List<String> a = sorted(actual);
        for (int i = 0; i < Math.min(e.size(), a.size()); i++) {
            if (!e.get(i).equals(a.get(i))) {
                throw new AssertionError("line " + i + " of " + e.size() + " expected / " + a.size()
                        + " actual differs:\n  expected " + e.get(i) + "\n  actual   " + a.get(i));
            }
        }
        assertEquals(e.size(), a.size(), "lines");
    }

    static List<String> sorted(Collection<String> lines) {
        List<String> l = new ArrayList<>(lines);
        l.sort(null);
        return l;
    }
}
