/* geohash.h — the geohash arithmetic behind the GEO commands.
 *
 * A position is stored as a sorted-set score: its 52-bit geohash (26 bits
 * of longitude and 26 of latitude, interleaved; latitude on the even bits)
 * over longitude [-180, 180] and latitude [-85.05112878, 85.05112878] (the
 * Web Mercator limits), so that Redis and lodis give the same scores for
 * the same coordinates. Searches cover the shape with the geohash box of
 * the centre and its eight neighbours at a step estimated from the radius,
 * then filter members by haversine distance on a sphere of radius
 * 6372797.560856 m. Every formula keeps Redis's order of floating-point
 * operations so that distances and decoded coordinates agree to the bit.
 * Pure arithmetic: no storage or server state. */
#ifndef LODIS_GEOHASH_H
#define LODIS_GEOHASH_H

#include <stdint.h>

#define GEO_STEP_MAX 26
#define GEO_LAT_MIN  (-85.05112878)
#define GEO_LAT_MAX  85.05112878
#define GEO_LONG_MIN (-180.0)
#define GEO_LONG_MAX 180.0

typedef struct geo_hash {
    uint64_t bits;
    uint8_t step; /* 0 with bits 0: an unused box */
} geo_hash;

typedef struct geo_range {
    double min, max;
} geo_range;

typedef struct geo_area {
    geo_range lon, lat;
} geo_area;

enum { GEO_SHAPE_CIRCLE = 1, GEO_SHAPE_BOX = 2 };

typedef struct geo_shape {
    int type;
    double xy[2];       /* centre: longitude, latitude */
    double conversion;  /* metres per unit */
    double radius;      /* circle, in units */
    double width, height; /* box, in units */
} geo_shape;

/* Encode at `step` bits per coordinate over the WGS84 ranges above: 1, or
 * 0 when the position is out of range. */
int geo_encode_wgs84(double lon, double lat, int step, geo_hash *out);
/* The decoded centre of a 52-bit score (as Redis converts the double to an
 * integer), clamped to the valid ranges. */
void geo_decode_score(double score, double xy[2]);
/* Distance in metres (haversine). */
double geo_distance(double lon1, double lat1, double lon2, double lat2);
/* Whether (lon, lat) lies in the shape; *dist gets its distance from the
 * centre in metres. */
int geo_in_shape(const geo_shape *s, double lon, double lat, double *dist);
/* The boxes to scan for a shape, in Redis's order: own box, N, S, E, W,
 * NE, NW, SE, SW; unused boxes have bits == 0 and step == 0. */
void geo_boxes(const geo_shape *s, geo_hash boxes[9]);
/* Score range [min, max) of a box. */
void geo_score_range(geo_hash h, uint64_t *min, uint64_t *max);
/* The 11-character standard geohash (latitude over [-90, 90]) of a score. */
void geo_hash_string(double score, char out[12]);

#endif
