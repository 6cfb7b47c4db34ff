#ifndef INSTAVERSE_CLIBUV_SHIM_H
#define INSTAVERSE_CLIBUV_SHIM_H
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#endif
