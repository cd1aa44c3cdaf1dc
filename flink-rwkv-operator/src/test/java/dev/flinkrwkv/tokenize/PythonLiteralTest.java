package dev.flinkrwkv.tokenize;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PythonLiteralTest {
    private static byte[] parse(String literal) {
        byte[] b = literal.getBytes(StandardCharsets.UTF_8);
        return PythonLiteral.parse(b, 0, b.length);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void strLiteralsAreTheirUtf8() {
        assertArrayEquals(utf8("a b"), parse("'a b'"));
        assertArrayEquals(utf8("it's"), parse("\"it's\""));
        assertArrayEquals(utf8("'\"\\"), parse("'\\'\"\\\\'"));
        assertArrayEquals(utf8("\t\n\r\u0007\b\f\u000b"), parse("'\\t\\n\\r\\a\\b\\f\\v'"));
        assertArrayEquals(utf8("\u00e9\u00ff"), parse("'\\xe9\\xff'")); // code points, two bytes each
        assertArrayEquals(utf8("\u4e2d\uD83D\uDE00"), parse("'\\u4e2d\\U0001f600'"));
        assertArrayEquals(utf8("\u4e2d\u6587"), parse("'\u4e2d\u6587'")); // raw text stays as is
        assertArrayEquals(utf8("\u0000A"), parse("'\\0\\101'"));
        assertArrayEquals(utf8("\\q"), parse("'\\q'"));
    }

    @Test
    void bytesLiteralsAreTheirBytes() {
        assertArrayEquals(new byte[] {(byte) 0xE9, (byte) 0x80}, parse("b'\\xe9\\x80'"));
        assertArrayEquals(utf8("\\u00e9"), parse("b'\\u00e9'"));
        assertArrayEquals(new byte[] {'a', 0, '\n'}, parse("b\"a\\x00\\n\""));
    }

    @Test
    void malformedLiteralsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> parse("abc"));
        assertThrows(IllegalArgumentException.class, () -> parse("'abc\""));
        assertThrows(IllegalArgumentException.class, () -> parse("'a'b'"));
        assertThrows(IllegalArgumentException.class, () -> parse("'\\x4'"));
        assertThrows(IllegalArgumentException.class, () -> parse("'\\ud800'"));
        assertThrows(IllegalArgumentException.class, () -> parse("b'\u00e9'"));
        assertThrows(IllegalArgumentException.class, () -> parse("'ab\\'"));
    }
}
