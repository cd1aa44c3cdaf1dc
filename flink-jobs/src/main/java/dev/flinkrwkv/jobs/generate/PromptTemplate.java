package dev.flinkrwkv.jobs.generate;

/**
 * How the generate job turns a record's text into the prompt it feeds.
 *
 * <ul>
 *   <li>{@link #NONE}: the text as it is.</li>
 *   <li>{@link #CHAT}: the turn format of the RWKV-7 G1 chat models, {@code User: TEXT\n\nAssistant:}; a reply
 *       ends at the first blank line ({@code \n\n}, a stop text, since the tokenizer may give it as one token or
 *       two). A blank line inside the text would read as the end of the user's turn, so it becomes one line
 *       break. The next record of the session continues the same conversation.</li>
 * </ul>
 */
public enum PromptTemplate {
    NONE,
    CHAT;

    /** The prompt for a record's text. */
    public String apply(String text) {
        if (this == NONE) {
            return text;
        }
        String t = text.strip();
        while (t.contains("\n\n")) {
            t = t.replace("\n\n", "\n");
        }
        return "User: " + t + "\n\nAssistant:";
    }

    /** The stop text that ends a reply, or null. */
    public String stopText() {
        return this == CHAT ? "\n\n" : null;
    }

    /** {@code none} or {@code chat}. */
    public static PromptTemplate named(String name) {
        switch (name) {
            case "none":
                return NONE;
            case "chat":
                return CHAT;
            default:
                throw new IllegalArgumentException("unknown template '" + name + "': use chat or none");
        }
    }
}
