// Where a join's clear payloads go: stdout or a file (the payloads of a
// batch in one writev, so a stream of TS datagrams becomes a TS file), or
// udp://GROUP:PORT (one sendmmsg per batch).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "options.h"

namespace keycast_recv {

class Output {
 public:
  // Opens it; false with *error set when it cannot.
  bool open(const OutSpec& spec, unsigned iface_index, std::string* error);
  ~Output();

  // Queues a payload that stays valid until flush().
  void add(std::span<const std::uint8_t> payload);
  // Writes what is queued; false with *error on a write error.
  bool flush(std::string* error);

  std::uint64_t written() const { return written_; }
  const std::string& name() const { return name_; }

 private:
  bool write_stream(std::string* error);
  bool send_datagrams(std::string* error);

  int fd_ = -1;
  bool own_fd_ = false;
  bool datagrams_ = false;
  std::string name_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  std::uint64_t written_ = 0;
};

}  // namespace keycast_recv
