package dev.flinkrwkv.jobs.cli;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options of the form {@code --name value} or {@code --flag}, repeated names kept in order. */
public final class Args {
    private final Map<String, List<String>> values = new LinkedHashMap<>();

    private Args() {}

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
        return values.containsKey(name);
    }

    public boolean flag(String name) {
        return values.containsKey(name);
    }

    public String string(String name) {
        List<String> v = values.get(name);
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
        for (String v : values.getOrDefault(name, List.of())) {
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
}
