package dev.flinkrwkv.jobs.logs;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LineStatisticTest {
    private static int body(String line) {
        return MessageBody.start(line.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void theMessageStartsAtTheFirstFieldWithoutADigit() {
        String bgl = "1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO ok";
        assertEquals(bgl.indexOf("RAS"), body(bgl));
        String demo = "2026-01-01T00:00:00.123Z web-01 gateway request id=7f3a path=/cart/17";
        assertEquals(demo.indexOf("gateway"), body(demo));
        assertEquals(0, body("no digits up front 123"));
        assertEquals(2, body("- RAS KERNEL"));
        assertEquals(bgl.indexOf("RAS") + 2, body("- " + bgl));
        assertEquals(0, body("12 34 56"));
        assertEquals(0, body(""));
        assertEquals(4, body("12\t\tx"));
    }

    @Test
    void aTagCarriesTheMessagesFirstTokenAndAnOldTagMeansTheWholeLine() {
        dev.flinkrwkv.jobs.format.ParsedRecord r = new dev.flinkrwkv.jobs.format.ParsedRecord();
        r.key = "k";
        r.text = "12 a|b";
        r.source = "src";
        r.partition = 1;
        r.offset = 7;
        LineTag t = LineTag.parse(LineTag.of(r, 10, 3));
        assertEquals("12 a|b", t.text());
        assertEquals(3, t.bodyStart());
        String old = LineTag.of(r, 10, 3).replaceFirst(",3\\|", "|");
        assertEquals(0, LineTag.parse(old).bodyStart());
        assertEquals(t.origin(), LineTag.parse(old).origin());
    }

    @Test
    void eachStatisticLooksAtItsPartOfTheLine() {
        // bits = -ln p / ln 2: log-probs of ln(1/2^b) give b bits
        float[] lp = new float[12];
        double[] bits = {9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 20, 1};
        for (int i = 0; i < lp.length; i++) {
            lp[i] = (float) (-bits[i] * Math.log(2));
        }
        assertEquals(LineSurprisal.fromLogProbs(lp, 0, 12), LineStatistic.MEAN.of(lp, 2));
        assertEquals(75.0 / 12, LineStatistic.MEAN.of(lp, 2).meanBits(), 1e-5);
        assertEquals(20, LineStatistic.MAX.of(lp, 2).meanBits(), 1e-5);
        assertEquals(10, LineStatistic.MAX.of(lp, 2).maxPosition());
        assertEquals(57.0 / 10, LineStatistic.BODY_MEAN.of(lp, 2).meanBits(), 1e-5);
        assertEquals(10, LineStatistic.BODY_MEAN.of(lp, 2).tokens());
        assertEquals(20, LineStatistic.BODY_MAX.of(lp, 9).meanBits(), 1e-5);
        assertEquals(36.0 / 8, LineStatistic.BODY_HEAD.of(lp, 2).meanBits(), 1e-5);
        assertEquals(20 + 36.0, LineStatistic.BODY_AND_HEAD.of(lp, 2).meanBits(), 1e-5);
        assertEquals(10, LineStatistic.BODY_AND_HEAD.of(lp, 2).maxPosition());
        // a body start past the end (a line that is all prefix) means the whole line
        assertEquals(LineStatistic.MEAN.of(lp, 0).meanBits(), LineStatistic.BODY_MEAN.of(lp, 12).meanBits());
        assertEquals(0, LineStatistic.BODY_MAX.of(new float[0], 0).meanBits());
        assertEquals(LineStatistic.BODY_HEAD, LineStatistic.parse("body-head"));
        assertEquals(LineStatistic.BODY_AND_HEAD, LineStatistic.parse("body-and-head"));
        assertThrows(IllegalArgumentException.class, () -> LineStatistic.parse("median"));
    }
}
