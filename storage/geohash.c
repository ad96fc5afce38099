/* geohash.c — geohash encoding, neighbours, search boxes and distances
 * (see geohash.h). Written from the published geohash and haversine
 * definitions; the constants (ranges, earth radius, Mercator extent) and
 * the order of operations are Redis's so results match it exactly. */
#include "storage/geohash.h"

#include <math.h>
#include <stddef.h>

#define EARTH_RADIUS_M 6372797.560856
#define MERCATOR_MAX   20037726.37
#define D_R            (M_PI / 180.0)

static double deg_rad(double a) { return a * D_R; }
static double rad_deg(double a) { return a / D_R; }

static const geo_range LON_RANGE = {GEO_LONG_MIN, GEO_LONG_MAX};
static const geo_range LAT_RANGE = {GEO_LAT_MIN, GEO_LAT_MAX};

/* Spread the 32 bits of v over the even bits of a 64-bit word. */
static uint64_t spread(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* Gather the even bits of x into 32 bits. */
static uint32_t gather(uint64_t x) {
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

static int encode(const geo_range *lonr, const geo_range *latr, double lon, double lat, int step,
                  geo_hash *out) {
    if (step > 32 || step == 0) return 0;
    if (lon > 180 || lon < -180 || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return 0;
    out->bits = 0;
    out->step = (uint8_t)step;
    if (lat < latr->min || lat > latr->max || lon < lonr->min || lon > lonr->max) return 0;
    double lat_off = (lat - latr->min) / (latr->max - latr->min);
    double lon_off = (lon - lonr->min) / (lonr->max - lonr->min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    out->bits = spread((uint32_t)lat_off) | (spread((uint32_t)lon_off) << 1);
    return 1;
}

int geo_encode_wgs84(double lon, double lat, int step, geo_hash *out) {
    return encode(&LON_RANGE, &LAT_RANGE, lon, lat, step, out);
}

static void decode(geo_hash h, geo_area *a) {
    uint32_t ilat = gather(h.bits), ilon = gather(h.bits >> 1);
    double lat_scale = LAT_RANGE.max - LAT_RANGE.min;
    double lon_scale = LON_RANGE.max - LON_RANGE.min;
    double div = (double)(1ULL << h.step);
    a->lat.min = LAT_RANGE.min + (ilat * 1.0 / div) * lat_scale;
    a->lat.max = LAT_RANGE.min + ((uint32_t)(ilat + 1) * 1.0 / div) * lat_scale;
    a->lon.min = LON_RANGE.min + (ilon * 1.0 / div) * lon_scale;
    a->lon.max = LON_RANGE.min + ((uint32_t)(ilon + 1) * 1.0 / div) * lon_scale;
}

/* x86-64's conversion of a double to uint64_t, as compiled C does it
 * (out-of-range values included), without undefined behaviour here. */
static uint64_t score_bits(double d) {
    const double two63 = 9223372036854775808.0;
    if (!(d < two63)) {
        double r = d - two63;
        uint64_t u = (r >= -two63 && r < two63) ? (uint64_t)(int64_t)r : 0x8000000000000000ULL;
        return u ^ 0x8000000000000000ULL;
    }
    if (d >= -two63) return (uint64_t)(int64_t)d;
    return 0x8000000000000000ULL;
}

void geo_decode_score(double score, double xy[2]) {
    geo_hash h = {score_bits(score), GEO_STEP_MAX};
    geo_area a;
    decode(h, &a);
    xy[0] = (a.lon.min + a.lon.max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (a.lat.min + a.lat.max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
}

static double lat_distance(double lat1, double lat2) {
    return EARTH_RADIUS_M * fabs(deg_rad(lat2) - deg_rad(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2) {
    double lon1r = deg_rad(lon1), lon2r = deg_rad(lon2);
    double v = sin((lon2r - lon1r) / 2);
    if (v == 0.0) return lat_distance(lat1, lat2);
    double lat1r = deg_rad(lat1), lat2r = deg_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * EARTH_RADIUS_M * asin(sqrt(a));
}

int geo_in_shape(const geo_shape *s, double lon, double lat, double *dist) {
    if (s->type == GEO_SHAPE_CIRCLE) {
        *dist = geo_distance(s->xy[0], s->xy[1], lon, lat);
        return !(*dist > s->radius * s->conversion);
    }
    double w = s->width * s->conversion, h = s->height * s->conversion;
    if (lat_distance(lat, s->xy[1]) > h / 2) return 0;
    if (geo_distance(lon, lat, s->xy[0], lat) > w / 2) return 0;
    *dist = geo_distance(s->xy[0], s->xy[1], lon, lat);
    return 1;
}

static void move_x(geo_hash *h, int d) {
    uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL;
    uint64_t y = h->bits & 0x5555555555555555ULL;
    uint64_t zz = 0x5555555555555555ULL >> (64 - h->step * 2);
    if (d > 0) {
        x = x + (zz + 1);
    } else {
        x = x | zz;
        x = x - (zz + 1);
    }
    x &= (0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2));
    h->bits = x | y;
}

static void move_y(geo_hash *h, int d) {
    uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL;
    uint64_t y = h->bits & 0x5555555555555555ULL;
    uint64_t zz = 0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2);
    if (d > 0) {
        y = y + (zz + 1);
    } else {
        y = y | zz;
        y = y - (zz + 1);
    }
    y &= (0x5555555555555555ULL >> (64 - h->step * 2));
    h->bits = x | y;
}

/* Neighbours in the boxes[] order of geo_boxes (boxes[0] is h itself). */
static void neighbours(geo_hash h, geo_hash b[9]) {
    static const int dx[9] = {0, 0, 0, 1, -1, 1, -1, 1, -1};
    static const int dy[9] = {0, 1, -1, 0, 0, 1, 1, -1, -1};
    for (int i = 0; i < 9; i++) {
        b[i] = h;
        if (dx[i]) move_x(&b[i], dx[i]);
        if (dy[i]) move_y(&b[i], dy[i]);
    }
}

static int estimate_steps(double range, double lat) {
    if (range == 0) return 26;
    int step = 1;
    while (range < MERCATOR_MAX) {
        range *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > 26) step = 26;
    return step;
}

static void bounding_box(const geo_shape *s, double b[4]) {
    double lon = s->xy[0], lat = s->xy[1];
    double height = s->conversion * (s->type == GEO_SHAPE_CIRCLE ? s->radius : s->height / 2);
    double width = s->conversion * (s->type == GEO_SHAPE_CIRCLE ? s->radius : s->width / 2);
    const double lat_delta = rad_deg(height / EARTH_RADIUS_M);
    const double lon_top = rad_deg(width / EARTH_RADIUS_M / cos(deg_rad(lat + lat_delta)));
    const double lon_bottom = rad_deg(width / EARTH_RADIUS_M / cos(deg_rad(lat - lat_delta)));
    int south = lat < 0;
    b[0] = south ? lon - lon_bottom : lon - lon_top;
    b[2] = south ? lon + lon_bottom : lon + lon_top;
    b[1] = lat - lat_delta;
    b[3] = lat + lat_delta;
}

enum { B_SELF, B_N, B_S, B_E, B_W, B_NE, B_NW, B_SE, B_SW };

static void zero(geo_hash *h) {
    h->bits = 0;
    h->step = 0;
}

void geo_boxes(const geo_shape *s, geo_hash boxes[9]) {
    double b[4];
    bounding_box(s, b);
    double min_lon = b[0], min_lat = b[1], max_lon = b[2], max_lat = b[3];
    double lon = s->xy[0], lat = s->xy[1];
    double radius = s->type == GEO_SHAPE_CIRCLE
                        ? s->radius
                        : sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2));
    radius *= s->conversion;

    int steps = estimate_steps(radius, lat);
    geo_hash h = {0, 0};
    geo_area area, n, so, e, w;

    encode(&LON_RANGE, &LAT_RANGE, lon, lat, steps, &h);
    neighbours(h, boxes);
    decode(h, &area);
    decode(boxes[B_N], &n);
    decode(boxes[B_S], &so);
    decode(boxes[B_E], &e);
    decode(boxes[B_W], &w);
    int decrease = n.lat.max < max_lat || so.lat.min > min_lat || e.lon.max < max_lon ||
                   w.lon.min > min_lon;
    if (steps > 1 && decrease) {
        steps--;
        encode(&LON_RANGE, &LAT_RANGE, lon, lat, steps, &h);
        neighbours(h, boxes);
        decode(h, &area);
    }
    if (steps >= 2) {
        if (area.lat.min < min_lat) {
            zero(&boxes[B_S]);
            zero(&boxes[B_SW]);
            zero(&boxes[B_SE]);
        }
        if (area.lat.max > max_lat) {
            zero(&boxes[B_N]);
            zero(&boxes[B_NE]);
            zero(&boxes[B_NW]);
        }
        if (area.lon.min < min_lon) {
            zero(&boxes[B_W]);
            zero(&boxes[B_SW]);
            zero(&boxes[B_NW]);
        }
        if (area.lon.max > max_lon) {
            zero(&boxes[B_E]);
            zero(&boxes[B_SE]);
            zero(&boxes[B_NE]);
        }
    }
}

void geo_score_range(geo_hash h, uint64_t *min, uint64_t *max) {
    int shift = 52 - h.step * 2;
    *min = h.bits << shift;
    *max = (h.bits + 1) << shift;
}

void geo_hash_string(double score, char out[12]) {
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    static const geo_range lonr = {-180, 180}, latr = {-90, 90};
    double xy[2];
    geo_hash h = {0, 0};
    geo_decode_score(score, xy);
    encode(&lonr, &latr, xy[0], xy[1], 26, &h);
    for (int i = 0; i < 11; i++) {
        int idx = i == 10 ? 0 : (int)((h.bits >> (52 - ((i + 1) * 5))) & 0x1f);
        out[i] = alphabet[idx];
    }
    out[11] = '\0';
}
