#ifndef INSTAVERSE_CZLIB_SHIM_H
#define INSTAVERSE_CZLIB_SHIM_H
#include <zlib.h>
/* deflateInit2/inflateInit2 are macros that pass sizeof(z_stream): wrap them. */
static inline int instaverse_deflate_init2(z_streamp s, int level, int windowBits, int memLevel) {
    return deflateInit2(s, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
static inline int instaverse_inflate_init2(z_streamp s, int windowBits) {
    return inflateInit2(s, windowBits);
}
#endif
