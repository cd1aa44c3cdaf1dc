package dev.flinkrwkv.tokenize;

/**
 * What the table-driven tokenizers ({@link WorldTokenizer}, {@link ByteLevelBpeTokenizer}) share: a name, a
 * vocabulary, the bytes of each token ({@link TokenTable}) for decoding, and the small form they are
 * serialized as ({@link SerialForm}: the built-in name or the file's bytes), so that shipping one to the task
 * managers never ships its tables.
 */
abstract class TableTokenizer implements Tokenizer {
    private static final long serialVersionUID = 1L;

    final String name;
    final int vocab;
    final TokenTable table;
    private final SerialForm serialForm;

    TableTokenizer(String name, int vocab, TokenTable table, SerialForm serialForm) {
        this.name = name;
        this.vocab = vocab;
        this.table = table;
        this.serialForm = serialForm;
    }

    @Override
    public final int vocab() {
        return vocab;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int tokenLength(int id) {
        return table.length(id);
    }

    @Override
    public final int tokenBytes(int id, byte[] dst, int offset) {
        return table.copy(id, dst, offset);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + name + ", vocabulary " + vocab + ")";
    }

    /** Serialization writes the {@link SerialForm} instead (each subclass refuses to be read directly). */
    protected final Object writeReplace() {
        return serialForm;
    }
}
