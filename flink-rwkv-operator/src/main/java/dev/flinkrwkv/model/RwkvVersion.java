package dev.flinkrwkv.model;

/** The RWKV architecture versions that rwkv.cpp files hold. */
public enum RwkvVersion {
    V4("4.0"),
    V5_1("5.1"),
    V5_2("5.2"),
    V6("6.0"),
    V7("7.0");

    public final String label;

    RwkvVersion(String label) {
        this.label = label;
    }

    /**
     * The version of a model from the names of its tensors, as rwkv.cpp detects it; the names that decide
     * are the same in an official checkpoint and in its rwkv.cpp conversion.
     */
    public static RwkvVersion detect(java.util.function.Predicate<String> has) {
        if (has.test("blocks.0.att.r_k")) {
            return V7;
        }
        if (has.test("blocks.0.att.time_maa_x")) {
            return V6;
        }
        if (has.test("blocks.0.att.ln_x.weight")) {
            return has.test("blocks.0.att.gate.weight") ? V5_2 : V5_1;
        }
        return V4;
    }

    /** Parses "4", "5.1", "5.2", "6", "7" (or the labels). */
    public static RwkvVersion parse(String s) {
        switch (s.trim()) {
            case "4": case "4.0": return V4;
            case "5.1": return V5_1;
            case "5": case "5.2": return V5_2;
            case "6": case "6.0": return V6;
            case "7": case "7.0": return V7;
            default: throw new IllegalArgumentException("unknown RWKV version '" + s + "'; expected 4, 5.1, 5.2, 6 or 7");
        }
    }

    @Override
    public String toString() {
        return label;
    }
}
