package dev.flinkrwkv.jobs.cli;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Options of the form {@code --name value} or {@code --flag}, repeated names kept in order. A command line
 * parsed {@link #forUsage against a usage line} refuses an option that the line does not name, so that a
 * misspelt option fails at once instead of being ignored while its default silently applies.
 */
public final class Args {
    private static final Pattern OPTION = Pattern.compile("--([a-z0-9][a-z0-9-]*)");

    private final Map<String, List<String>> values = new LinkedHashMap<>();
    /** The names a command declares in its usage line; null where any name is accepted. */
    private Set<String> declared;

    private Args() {}

    /**
     * {@code argv} from index {@code from}, checked against the options that {@code usage} names (every
     * {@code --name} in it, and {@code --help}): an unknown one is a {@link UsageException} naming the closest
     * declared option. The command's own code may then read only declared names (a programming error otherwise).
     */
    public static Args forUsage(String[] argv, int from, String usage) {
        Args a = parse(argv, from);
        Set<String> declared = new TreeSet<>();
        Matcher m = OPTION.matcher(usage);
        while (m.find()) {
            declared.add(m.group(1));
        }
        declared.add("help");
        for (String name : a.values.keySet()) {
            if (!declared.contains(name)) {
                String near = closest(name, declared);
                throw new UsageException("unknown option --" + name + (near == null ? "" : "; did you mean --" + near + "?"));
            }
        }
        a.declared = declared;
        return a;
    }

    public static Args parse(String[] argv, int from) {
        Args a = new Args();
        for (int i = from; i < argv.length; i++) {
            String s = argv[i];
            if (!s.startsWith("--") || s.length() == 2) {
                throw new UsageException("unexpected argument '" + s + "'");
            }
            String name = s.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
                value = argv[++i];
            }
            a.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return a;
    }

    public boolean has(String name) {
        return values(name) != null;
    }

    public boolean flag(String name) {
        return has(name);
    }

    public String string(String name) {
        List<String> v = values(name);
        if (v == null || v.get(v.size() - 1) == null) {
            throw new UsageException("missing --" + name);
        }
        return v.get(v.size() - 1);
    }

    public String string(String name, String def) {
        return has(name) ? string(name) : def;
    }

    /** Every value given for a repeated option (also comma-separated values). */
    public List<String> strings(String name) {
        List<String> out = new ArrayList<>();
        List<String> given = values(name);
        for (String v : given == null ? List.<String>of() : given) {
            if (v != null) {
                for (String p : v.split(",")) {
                    if (!p.isBlank()) {
                        out.add(p.trim());
                    }
                }
            }
        }
        return out;
    }

    public Path path(String name) {
        return Paths.get(string(name));
    }

    public int integer(String name, int def) {
        if (!has(name)) {
            return def;
        }
        try {
            return Integer.parseInt(string(name));
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + string(name) + "'");
        }
    }

    public long longValue(String name, long def) {
        if (!has(name)) {
            return def;
        }
        try {
            return Long.parseLong(string(name));
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + string(name) + "'");
        }
    }

    public double number(String name, double def) {
        if (!has(name)) {
            return def;
        }
        try {
            return Double.parseDouble(string(name));
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects a number, got '" + string(name) + "'");
        }
    }

    private List<String> values(String name) {
        if (declared != null && !declared.contains(name)) {
            throw new IllegalStateException("option --" + name + " is read but not named in the command's usage line");
        }
        return values.get(name);
    }

    /**
     * The declared name a misspelt one most likely meant: the shortest that starts with it or that it starts
     * with, else the nearest at most two edits away.
     */
    private static String closest(String name, Set<String> declared) {
        String best = null;
        int bestScore = Integer.MAX_VALUE;
        for (String d : declared) {
            int score = d.startsWith(name) || name.startsWith(d) ? d.length() - 1000 : editDistance(name, d);
            if (score <= 2 && score < bestScore) {
                best = d;
                bestScore = score;
            }
        }
        return best;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int replace = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(replace, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
