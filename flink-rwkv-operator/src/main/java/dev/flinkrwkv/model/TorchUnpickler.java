package dev.flinkrwkv.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted unpickler for the {@code data.pkl} of a {@code torch.save} archive: the subset of pickle
 * (protocols 2 to 4) that a saved state dict uses, and nothing more.
 *
 * <p>A checkpoint is untrusted input: a real unpickler calls whatever global a pickle names. This one
 * knows a fixed list of names ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2},
 * {@code torch._utils._rebuild_parameter} and the {@code torch.*Storage} types) and builds plain Java
 * values from them; any other global, any opcode outside the subset, a call of anything but those
 * names fails with a {@link ModelFormatException}. Nothing is ever instantiated by name.
 *
 * <p>What comes out: dicts as {@link LinkedHashMap} (insertion order kept), tuples and lists as
 * {@link List}, ints as {@link Long}, strings, booleans, floats as {@link Double}, {@code None} as null,
 * tensors as {@link TensorRef} over a {@link StorageRef} (the persistent id of a storage).
 */
final class TorchUnpickler {
    /** A storage named by a persistent id: its file key in the archive's {@code data/} folder. */
    record StorageRef(StorageType type, String key, long elements) {}

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, ...)}: a view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** A {@code torch.XStorage} global: its dtype, or null (with the dtype's name) when not loadable. */
    record StorageType(String name, CheckpointTensor.Dtype dtype, String dtypeName) {}

    private enum Callable { ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_PARAMETER }

    private static final Map<String, Object> GLOBALS = new HashMap<>();

    static {
        GLOBALS.put("collections OrderedDict", Callable.ORDERED_DICT);
        GLOBALS.put("torch._utils _rebuild_tensor_v2", Callable.REBUILD_TENSOR_V2);
        GLOBALS.put("torch._utils _rebuild_parameter", Callable.REBUILD_PARAMETER);
        storage("FloatStorage", CheckpointTensor.Dtype.F32, "float32");
        storage("HalfStorage", CheckpointTensor.Dtype.F16, "float16");
        storage("BFloat16Storage", CheckpointTensor.Dtype.BF16, "bfloat16");
        // Known storage types whose dtype no RWKV weight uses: named in the error.
        storage("DoubleStorage", null, "float64");
        storage("CharStorage", null, "int8");
        storage("ByteStorage", null, "uint8");
        storage("ShortStorage", null, "int16");
        storage("IntStorage", null, "int32");
        storage("LongStorage", null, "int64");
        storage("BoolStorage", null, "bool");
    }

    private static void storage(String name, CheckpointTensor.Dtype dtype, String dtypeName) {
        GLOBALS.put("torch " + name, new StorageType(name, dtype, dtypeName));
    }

    /** Longest string or byte run accepted (far above any tensor name). */
    private static final int MAX_STRING = 1 << 20;
    private static final Object MARK = new Object();

    private final Path file;
    private final String entry;
    private final ByteBuffer in;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private TorchUnpickler(Path file, String entry, ByteBuffer in) {
        this.file = file;
        this.entry = entry;
        this.in = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Unpickles {@code pickle} (the bytes of archive entry {@code entry} of {@code file}). */
    static Object load(Path file, String entry, ByteBuffer pickle) throws ModelFormatException {
        return new TorchUnpickler(file, entry, pickle).run();
    }

    private ModelFormatException fail(int at, String problem) {
        return new ModelFormatException(file, entry + " at byte " + at + ": " + problem);
    }

    private Object run() throws ModelFormatException {
        while (true) {
            if (!in.hasRemaining()) {
                throw fail(in.position(), "the pickle ends without a STOP opcode (truncated)");
            }
            int at = in.position();
            int op = in.get() & 0xFF;
            switch (op) {
                case 0x80: // PROTO
                    int proto = u8(at);
                    if (proto < 2 || proto > 5) {
                        throw fail(at, "pickle protocol " + proto + " (PyTorch writes 2)");
                    }
                    break;
                case 0x95: // FRAME (protocol 4): a length hint only
                    need(at, 8);
                    in.position(in.position() + 8);
                    break;
                case '.': // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw fail(at, "STOP with " + stack.size() + " values on the stack");
                    }
                    return stack.get(0);
                case '(':
                    marks.add(stack.size());
                    stack.add(MARK);
                    break;
                case '}':
                    push(new LinkedHashMap<Object, Object>());
                    break;
                case ']':
                    push(new ArrayList<Object>());
                    break;
                case ')':
                    push(List.of());
                    break;
                case 'd': { // DICT
                    List<Object> items = popMark(at);
                    push(setItems(new LinkedHashMap<>(), items, at));
                    break;
                }
                case 'l': // LIST
                    push(new ArrayList<>(popMark(at)));
                    break;
                case 't': // TUPLE
                    push(Collections.unmodifiableList(popMark(at)));
                    break;
                case 0x85: // TUPLE1
                    push(Collections.singletonList(pop(at)));
                    break;
                case 0x86: { // TUPLE2
                    Object b = pop(at);
                    Object a = pop(at);
                    push(Collections.unmodifiableList(Arrays.asList(a, b)));
                    break;
                }
                case 0x87: { // TUPLE3
                    Object c = pop(at);
                    Object b = pop(at);
                    Object a = pop(at);
                    push(Collections.unmodifiableList(Arrays.asList(a, b, c)));
                    break;
                }
                case 'q': // BINPUT
                    memo.put((long) u8(at), top(at));
                    break;
                case 'r': // LONG_BINPUT
                    memo.put(u32(at), top(at));
                    break;
                case 0x94: // MEMOIZE
                    memo.put((long) memo.size(), top(at));
                    break;
                case 'h': // BINGET
                    push(memoGet(u8(at), at));
                    break;
                case 'j': // LONG_BINGET
                    push(memoGet(u32(at), at));
                    break;
                case 'X': // BINUNICODE
                    push(utf8(at, u32(at)));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    push(utf8(at, u8(at)));
                    break;
                case 'U': // SHORT_BINSTRING
                    push(latin1(at, u8(at)));
                    break;
                case 'T': // BINSTRING
                    push(latin1(at, u32(at)));
                    break;
                case 'J': // BININT
                    need(at, 4);
                    push((long) in.getInt());
                    break;
                case 'K': // BININT1
                    push((long) u8(at));
                    break;
                case 'M': // BININT2
                    need(at, 2);
                    push((long) (in.getShort() & 0xFFFF));
                    break;
                case 0x8a: // LONG1
                    push(long1(at));
                    break;
                case 'G': // BINFLOAT (big-endian)
                    need(at, 8);
                    push(Double.longBitsToDouble(Long.reverseBytes(in.getLong())));
                    break;
                case 'N':
                    push(null);
                    break;
                case 0x88:
                    push(Boolean.TRUE);
                    break;
                case 0x89:
                    push(Boolean.FALSE);
                    break;
                case '0': // POP
                    pop(at);
                    break;
                case '1': // POP_MARK
                    popMark(at);
                    break;
                case '2': // DUP
                    push(top(at));
                    break;
                case 'c': { // GLOBAL "module\nname\n"
                    String module = line(at);
                    String name = line(at);
                    push(global(at, module + " " + name));
                    break;
                }
                case 0x93: { // STACK_GLOBAL
                    Object name = pop(at);
                    Object module = pop(at);
                    if (!(module instanceof String) || !(name instanceof String)) {
                        throw fail(at, "STACK_GLOBAL on values that are not strings");
                    }
                    push(global(at, module + " " + name));
                    break;
                }
                case 'Q': // BINPERSID
                    push(persistent(at, pop(at)));
                    break;
                case 'R': { // REDUCE
                    Object args = pop(at);
                    Object callable = pop(at);
                    push(reduce(at, callable, args));
                    break;
                }
                case 'b': { // BUILD: only the instance dict of an OrderedDict (a state dict's _metadata)
                    Object state = pop(at);
                    Object target = top(at);
                    if (!(target instanceof Map) || !(state == null || state instanceof Map)) {
                        throw fail(at, "BUILD on a " + describe(target) + " (only a dict's attributes are accepted)");
                    }
                    break;
                }
                case 's': { // SETITEM
                    Object v = pop(at);
                    Object k = pop(at);
                    dictOnTop(at).put(key(at, k), v);
                    break;
                }
                case 'u': { // SETITEMS
                    List<Object> items = popMark(at);
                    setItems(dictOnTop(at), items, at);
                    break;
                }
                case 'a': { // APPEND
                    Object v = pop(at);
                    listOnTop(at).add(v);
                    break;
                }
                case 'e': { // APPENDS
                    List<Object> items = popMark(at);
                    listOnTop(at).addAll(items);
                    break;
                }
                default:
                    throw fail(at, String.format("unsupported pickle opcode 0x%02x (not one a PyTorch state dict uses)", op));
            }
        }
    }

    private Object global(int at, String qualified) throws ModelFormatException {
        Object g = GLOBALS.get(qualified);
        if (g == null) {
            throw fail(at, "the pickle names the global '" + qualified.replace(' ', '.')
                    + "', which a checkpoint of tensors has no use for; refused (a pickle can run code)");
        }
        return g;
    }

    /** A persistent id: {@code ('storage', storage_type, key, location, numel)}. */
    private Object persistent(int at, Object pid) throws ModelFormatException {
        if (pid instanceof List<?> t && t.size() == 5 && "storage".equals(t.get(0)) && t.get(1) instanceof StorageType st
                && t.get(2) instanceof String key && t.get(4) instanceof Long numel && numel >= 0) {
            return new StorageRef(st, key, numel);
        }
        throw fail(at, "a persistent id that is not a tensor storage: " + describe(pid));
    }

    private Object reduce(int at, Object callable, Object args) throws ModelFormatException {
        if (!(args instanceof List<?> a)) {
            throw fail(at, "REDUCE with arguments that are not a tuple");
        }
        if (callable == Callable.ORDERED_DICT) {
            if (!a.isEmpty()) {
                throw fail(at, "OrderedDict called with arguments");
            }
            return new LinkedHashMap<Object, Object>();
        }
        if (callable == Callable.REBUILD_PARAMETER) {
            if (a.isEmpty() || !(a.get(0) instanceof TensorRef)) {
                throw fail(at, "_rebuild_parameter without a tensor");
            }
            return a.get(0);
        }
        if (callable == Callable.REBUILD_TENSOR_V2) {
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            if (a.size() < 4 || !(a.get(0) instanceof StorageRef s) || !(a.get(1) instanceof Long offset)) {
                throw fail(at, "_rebuild_tensor_v2 with unexpected arguments (" + describe(a) + ")");
            }
            return new TensorRef(s, offset, longs(at, a.get(2), "size"), longs(at, a.get(3), "stride"));
        }
        throw fail(at, "REDUCE calls a " + describe(callable) + " (only OrderedDict and tensor rebuilds are accepted)");
    }

    private long[] longs(int at, Object o, String what) throws ModelFormatException {
        if (!(o instanceof List<?> l)) {
            throw fail(at, "tensor " + what + " is not a tuple");
        }
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long v) || v < 0) {
                throw fail(at, "tensor " + what + " is not a tuple of non-negative ints");
            }
            out[i] = v;
        }
        return out;
    }

    private Map<Object, Object> setItems(Map<Object, Object> m, List<Object> items, int at) throws ModelFormatException {
        if (items.size() % 2 != 0) {
            throw fail(at, "an odd number of values for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            m.put(key(at, items.get(i)), items.get(i + 1));
        }
        return m;
    }

    /** Dict keys: strings and ints only (anything else has no use in a state dict and may not hash stably). */
    private Object key(int at, Object k) throws ModelFormatException {
        if (k instanceof String || k instanceof Long) {
            return k;
        }
        throw fail(at, "a dict key that is a " + describe(k));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dictOnTop(int at) throws ModelFormatException {
        Object t = top(at);
        if (!(t instanceof LinkedHashMap)) {
            throw fail(at, "setting items on a " + describe(t));
        }
        return (Map<Object, Object>) t;
    }

    @SuppressWarnings("unchecked")
    private List<Object> listOnTop(int at) throws ModelFormatException {
        Object t = top(at);
        if (!(t instanceof ArrayList)) {
            throw fail(at, "appending to a " + describe(t));
        }
        return (List<Object>) t;
    }

    /** What a value is, for messages (never its whole text: a hostile pickle can nest values without end). */
    private static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Callable c) {
            return "function " + c;
        }
        if (o instanceof StorageType s) {
            return "torch." + s.name();
        }
        if (o instanceof String s) {
            return "string '" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
        }
        if (o instanceof List<?> l) {
            return "sequence of " + l.size() + " values";
        }
        if (o instanceof Map<?, ?> m) {
            return "dict of " + m.size() + " entries";
        }
        if (o instanceof TensorRef) {
            return "tensor";
        }
        if (o instanceof StorageRef) {
            return "storage";
        }
        return o.getClass().getSimpleName() + " " + o;
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop(int at) throws ModelFormatException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw fail(at, "the pickle pops an empty stack");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top(int at) throws ModelFormatException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw fail(at, "the pickle reads an empty stack");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark(int at) throws ModelFormatException {
        if (marks.isEmpty()) {
            throw fail(at, "no MARK on the stack");
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private Object memoGet(long key, int at) throws ModelFormatException {
        if (!memo.containsKey(key)) {
            throw fail(at, "memo entry " + key + " read before it was written");
        }
        return memo.get(key);
    }

    private void need(int at, long n) throws ModelFormatException {
        if (in.remaining() < n) {
            throw fail(at, "the pickle ends inside an opcode (truncated)");
        }
    }

    private int u8(int at) throws ModelFormatException {
        need(at, 1);
        return in.get() & 0xFF;
    }

    private long u32(int at) throws ModelFormatException {
        need(at, 4);
        return in.getInt() & 0xFFFFFFFFL;
    }

    private Long long1(int at) throws ModelFormatException {
        int n = u8(at);
        if (n > 8) {
            throw fail(at, "an integer of " + n + " bytes");
        }
        need(at, n);
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (in.get() & 0xFFL) << (8 * i);
        }
        if (n > 0 && n < 8 && (v & (1L << (8 * n - 1))) != 0) {
            v -= 1L << (8 * n); // two's complement of n bytes
        }
        return v;
    }

    private byte[] bytes(int at, long n) throws ModelFormatException {
        if (n > MAX_STRING) {
            throw fail(at, "a string of " + n + " bytes");
        }
        need(at, n);
        byte[] b = new byte[(int) n];
        in.get(b);
        return b;
    }

    private String utf8(int at, long n) throws ModelFormatException {
        return new String(bytes(at, n), StandardCharsets.UTF_8);
    }

    private String latin1(int at, long n) throws ModelFormatException {
        return new String(bytes(at, n), StandardCharsets.ISO_8859_1);
    }

    private String line(int at) throws ModelFormatException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            need(at, 1);
            byte b = in.get();
            if (b == '\n') {
                return sb.toString();
            }
            if (sb.length() > 256) {
                throw fail(at, "a global name longer than 256 bytes");
            }
            sb.append((char) (b & 0xFF));
        }
    }
}
