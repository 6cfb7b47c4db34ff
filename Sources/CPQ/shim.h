#ifndef INSTAVERSE_CPQ_SHIM_H
#define INSTAVERSE_CPQ_SHIM_H
#include <libpq-fe.h>
#endif
