/* The keycast receiver's C API: an opaque handle around keycast::Receiver.
 * No exception crosses it; functions return KEYCAST_OK or a negative
 * keycast_error, and keycast_last_error() says what went wrong on this
 * thread. One handle is used by one thread at a time. */
#ifndef KEYCAST_KEYCAST_H
#define KEYCAST_KEYCAST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct keycast_receiver keycast_receiver;

enum keycast_error {
  KEYCAST_OK = 0,
  KEYCAST_EINVAL = -1,     /* bad argument or configuration */
  KEYCAST_ENOMEM = -2,
  KEYCAST_EINTERNAL = -3,
  KEYCAST_ETIMEDOUT = -4,  /* keys did not arrive in time */
  KEYCAST_EFETCH = -5      /* the key manager refused or could not be reached */
};

enum keycast_outcome_kind {
  KEYCAST_CLEAR = 0,    /* clear/clear_len: the original UDP payload, in place */
  KEYCAST_HELD = 1,     /* copied; keycast_receiver_poll_released gives it back */
  KEYCAST_NOTICE = 2,   /* a KEY_NOTICE, consumed */
  KEYCAST_DROPPED = 3   /* drop_reason says why (keycast_drop_name) */
};

typedef struct keycast_config {
  const char* const* keymgr; /* "host:port" or "[v6]:port", in failover order */
  size_t keymgr_count;
  int round_robin;           /* 0: every reconnect starts at the first endpoint */
  const char* peer_id;
  const char* token;         /* lab token, or NULL */
  const char* tls_cert;      /* client certificate, key and CA (PEM), or all NULL */
  const char* tls_key;
  const char* tls_ca;
  const uint32_t* channels;  /* channel ids; none: learned from the datagrams */
  size_t channel_count;
  uint32_t grace_ms;         /* 0: defaults (2000, 50, 64) */
  uint32_t hold_timeout_ms;
  uint32_t hold_limit;
} keycast_config;

typedef struct keycast_outcome {
  int kind;            /* enum keycast_outcome_kind */
  int drop_reason;     /* with KEYCAST_DROPPED */
  uint32_t channel_id; /* 0 when the header did not parse */
  const uint8_t* clear;
  size_t clear_len;
} keycast_outcome;

typedef void (*keycast_release_fn)(void* user, uint32_t channel_id, const uint8_t* clear, size_t clear_len);

int keycast_receiver_create(const keycast_config* config, keycast_receiver** out);
/* Waits until every configured channel has its keys: KEYCAST_OK,
 * KEYCAST_EFETCH (refused or unreachable) or KEYCAST_ETIMEDOUT. */
int keycast_receiver_wait_ready(keycast_receiver* r, uint32_t timeout_ms);
/* Descrambles datagram[0, len) in place (a UDP payload). */
int keycast_receiver_process(keycast_receiver* r, uint8_t* datagram, size_t len, keycast_outcome* out);
/* Calls fn for each held datagram whose key arrived, in order; *released
 * (may be NULL) gets how many. Call after every batch and every few ms. */
int keycast_receiver_poll_released(keycast_receiver* r, keycast_release_fn fn, void* user, size_t* released);
/* A counter by name: "received", "descrambled", "held", ... or "drop.REASON". */
int keycast_receiver_counter(const keycast_receiver* r, const char* name, uint64_t* value);
void keycast_receiver_destroy(keycast_receiver* r);

const char* keycast_drop_name(int reason);
/* The last error of a call on this thread ("" when none). */
const char* keycast_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* KEYCAST_KEYCAST_H */
