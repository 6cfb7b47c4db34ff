#ifndef INSTAVERSE_CRABBITMQ_SHIM_H
#define INSTAVERSE_CRABBITMQ_SHIM_H
/* rabbitmq-c 0.11 (Debian 12) has <amqp.h>; 0.12+ moved it to <rabbitmq-c/amqp.h>. */
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif
#include <string.h>

/* amqp_login is variadic, which Swift cannot call: a plain-SASL wrapper. */
static inline amqp_rpc_reply_t instaverse_amqp_login_plain(amqp_connection_state_t state,
        const char *vhost, int channel_max, int frame_max, int heartbeat,
        const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat,
                      AMQP_SASL_METHOD_PLAIN, user, password);
}
/* Method ids: the header's macros are casts, which Swift does not import. */
static const amqp_method_number_t instaverse_amqp_basic_ack_method = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t instaverse_amqp_basic_nack_method = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t instaverse_amqp_basic_return_method = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t instaverse_amqp_basic_cancel_method = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t instaverse_amqp_channel_close_method = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t instaverse_amqp_channel_close_ok_method = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t instaverse_amqp_connection_close_method = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t instaverse_amqp_connection_close_ok_method = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t instaverse_amqp_basic_get_ok_method = AMQP_BASIC_GET_OK_METHOD;
#endif
