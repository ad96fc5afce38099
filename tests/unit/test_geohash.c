/* test_geohash.c — geohash arithmetic (storage/geohash.c).
 *
 * Golden values from redis-server 7.0.15: the 52-bit scores GEOADD gives,
 * the decoded coordinates GEOPOS prints (%.17Lf), GEOHASH strings, the
 * GEODIST distance, including the corners of the valid range. Then
 * properties: the boxes of a search cover every point that is inside the
 * shape (checked by brute force over random points). */
#include "storage/geohash.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static uint64_t score_of(double lon, double lat) {
    geo_hash h;
    assert_int_equal(geo_encode_wgs84(lon, lat, GEO_STEP_MAX, &h), 1);
    return h.bits;
}

static void fmt(double d, char *out, size_t cap) { snprintf(out, cap, "%.17Lf", (long double)d); }

static void test_scores(void **state) {
    (void)state;
    assert_true(score_of(13.361389, 38.115556) == 3479099956230698ULL);
    assert_true(score_of(15.087269, 37.502669) == 3479447370796909ULL);
    assert_true(score_of(180, 85.05112878) == 13510798882111488ULL);
    assert_true(score_of(-180, -85.05112878) == 0);
    assert_true(score_of(0, 0) == 3377699720527872ULL);
    geo_hash h;
    assert_int_equal(geo_encode_wgs84(181, 0, GEO_STEP_MAX, &h), 0);
    assert_int_equal(geo_encode_wgs84(0, 85.06, GEO_STEP_MAX, &h), 0);
}

static void test_decode(void **state) {
    (void)state;
    double xy[2];
    char b[64];
    geo_decode_score(3479099956230698.0, xy);
    fmt(xy[0], b, sizeof b);
    assert_string_equal(b, "13.36138933897018433");
    fmt(xy[1], b, sizeof b);
    assert_string_equal(b, "38.11555639549629859");
    geo_decode_score(0, xy);
    fmt(xy[0], b, sizeof b);
    assert_string_equal(b, "-179.99999731779098511");
    fmt(xy[1], b, sizeof b);
    assert_string_equal(b, "-85.05112751263942528");
    geo_decode_score(13510798882111488.0, xy); /* clamped */
    assert_true(xy[0] == 180.0);
    assert_true(xy[1] == GEO_LAT_MAX);
}

static void test_hash_strings(void **state) {
    (void)state;
    char s[12];
    geo_hash_string(3479099956230698.0, s);
    assert_string_equal(s, "sqc8b49rny0");
    geo_hash_string(0, s);
    assert_string_equal(s, "00bh0hbj200");
    geo_hash_string(3377699720527872.0, s);
    assert_string_equal(s, "s0000000000");
    geo_hash_string(13510798882111488.0, s);
    assert_string_equal(s, "bp05b5048p0");
}

static void test_distance(void **state) {
    (void)state;
    double a[2], b[2];
    char t[64];
    geo_decode_score(3479099956230698.0, a);
    geo_decode_score(3479447370796909.0, b);
    snprintf(t, sizeof t, "%.4f", geo_distance(a[0], a[1], b[0], b[1]));
    assert_string_equal(t, "166274.1516");
    snprintf(t, sizeof t, "%.4f", geo_distance(15, 37, a[0], a[1]) / 1000);
    assert_string_equal(t, "190.4424");
    assert_true(geo_distance(10, 20, 10, 20) == 0);
}

/* Every point inside the shape falls in one of the scanned boxes. */
static void test_boxes_cover(void **state) {
    (void)state;
    srand(7);
    for (int t = 0; t < 300; t++) {
        geo_shape s;
        memset(&s, 0, sizeof s);
        s.xy[0] = -180 + 360.0 * rand() / RAND_MAX;
        s.xy[1] = -80 + 160.0 * rand() / RAND_MAX;
        s.conversion = 1000;
        if (t % 2) {
            s.type = GEO_SHAPE_CIRCLE;
            s.radius = 1 + 2000.0 * rand() / RAND_MAX;
        } else {
            s.type = GEO_SHAPE_BOX;
            s.width = 1 + 2000.0 * rand() / RAND_MAX;
            s.height = 1 + 2000.0 * rand() / RAND_MAX;
        }
        geo_hash boxes[9];
        geo_boxes(&s, boxes);
        for (int k = 0; k < 200; k++) {
            double lon = s.xy[0] + (rand() / (double)RAND_MAX - 0.5) * 40;
            double lat = s.xy[1] + (rand() / (double)RAND_MAX - 0.5) * 40;
            if (lon < -180 || lon > 180 || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) continue;
            uint64_t sc = score_of(lon, lat);
            double xy[2], d;
            geo_decode_score((double)sc, xy);
            if (!geo_in_shape(&s, xy[0], xy[1], &d)) continue;
            int hit = 0;
            for (int i = 0; i < 9; i++) {
                if (boxes[i].bits == 0 && boxes[i].step == 0) continue;
                uint64_t lo, hi;
                geo_score_range(boxes[i], &lo, &hi);
                if (sc >= lo && sc < hi) hit = 1;
            }
            assert_true(hit);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores),      cmocka_unit_test(test_decode),
        cmocka_unit_test(test_hash_strings), cmocka_unit_test(test_distance),
        cmocka_unit_test(test_boxes_cover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
