// open_join (see join_socket.h).
#include "join_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keycast_recv {

namespace {
int fail(int fd, std::string* error, const std::string& what) {
  *error = what + ": " + std::strerror(errno);
  if (fd >= 0) ::close(fd);
  return -1;
}
}  // namespace

int open_join(const JoinSpec& join, unsigned iface_index, std::string* error) {
  const int family = join.group.family();
  const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fd, error, "socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const int rcvbuf = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);  // best effort, capped by rmem_max
  if (family == AF_INET) {
    const int zero = 0;  // only the groups this socket joined
    ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero);
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&join.group.ss), join.group.len) != 0) {
    return fail(fd, error, "bind " + join.group.to_string());
  }
  if (!join.group.is_multicast()) return fd;
  const int level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
  if (join.source) {
    group_source_req req{};
    req.gsr_interface = iface_index;
    std::memcpy(&req.gsr_group, &join.group.ss, join.group.len);
    std::memcpy(&req.gsr_source, &join.source->ss, join.source->len);
    if (::setsockopt(fd, level, MCAST_JOIN_SOURCE_GROUP, &req, sizeof req) != 0) {
      return fail(fd, error, "join " + join.text + " (source-specific)");
    }
  } else {
    group_req req{};
    req.gr_interface = iface_index;
    std::memcpy(&req.gr_group, &join.group.ss, join.group.len);
    if (::setsockopt(fd, level, MCAST_JOIN_GROUP, &req, sizeof req) != 0) {
      return fail(fd, error, "join " + join.text);
    }
  }
  return fd;
}

}  // namespace keycast_recv
