#ifndef INSTAVERSE_COPENSSL_SHIM_H
#define INSTAVERSE_COPENSSL_SHIM_H
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#endif
