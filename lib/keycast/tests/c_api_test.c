/* Compiled as C: the C API's header compiles and the library links. Uses a
 * key manager endpoint nobody listens on, so no keys ever arrive. */
#include <stdio.h>
#include <string.h>

#include "keycast/keycast.h"

#define CHECK(cond)                                                \
  do {                                                             \
    if (!(cond)) {                                                 \
      fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond); \
      return 1;                                                    \
    }                                                              \
  } while (0)

static void on_release(void* user, uint32_t channel_id, const uint8_t* clear, size_t len) {
  (void)channel_id;
  (void)clear;
  (void)len;
  ++*(int*)user;
}

int main(void) {
  const char* endpoints[] = {"127.0.0.1:1"};
  const uint32_t channels[] = {1};
  keycast_config cfg;
  keycast_receiver* rx = NULL;
  keycast_outcome out;
  uint8_t junk[8] = {0x4B, 0x43, 1, 1, 3, 0, 0, 24};
  uint64_t value = 0;
  size_t released = 0;
  int calls = 0;

  memset(&cfg, 0, sizeof cfg);
  CHECK(keycast_receiver_create(&cfg, &rx) == KEYCAST_EINVAL);
  CHECK(strlen(keycast_last_error()) > 0);

  cfg.keymgr = endpoints;
  cfg.keymgr_count = 1;
  cfg.peer_id = "rx1";
  cfg.token = "rx1-lab-token";
  cfg.channels = channels;
  cfg.channel_count = 1;
  CHECK(keycast_receiver_create(&cfg, &rx) == KEYCAST_OK);
  CHECK(rx != NULL);
  CHECK(keycast_receiver_wait_ready(rx, 5000) == KEYCAST_EFETCH);
  CHECK(strstr(keycast_last_error(), "unreachable") != NULL);

  CHECK(keycast_receiver_process(rx, junk, sizeof junk, &out) == KEYCAST_OK);
  CHECK(out.kind == KEYCAST_DROPPED);
  CHECK(strcmp(keycast_drop_name(out.drop_reason), "kc_truncated") == 0);
  CHECK(keycast_receiver_poll_released(rx, on_release, &calls, &released) == KEYCAST_OK);
  CHECK(released == 0 && calls == 0);
  CHECK(keycast_receiver_counter(rx, "received", &value) == KEYCAST_OK && value == 1);
  CHECK(keycast_receiver_counter(rx, "drop.kc_truncated", &value) == KEYCAST_OK && value == 1);
  CHECK(keycast_receiver_counter(rx, "no_such_counter", &value) == KEYCAST_EINVAL);
  keycast_receiver_destroy(rx);
  printf("ok\n");
  return 0;
}
