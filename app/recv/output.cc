// Output (see output.h).
#include "output.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace keycast_recv {

bool Output::open(const OutSpec& spec, unsigned iface_index, std::string* error) {
  switch (spec.kind) {
    case OutSpec::Kind::stdout_:
      fd_ = STDOUT_FILENO;
      name_ = "stdout";
      return true;
    case OutSpec::Kind::file:
      name_ = spec.path;
      fd_ = ::open(spec.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      own_fd_ = fd_ >= 0;
      if (fd_ < 0) *error = "open " + spec.path + ": " + std::strerror(errno);
      return fd_ >= 0;
    case OutSpec::Kind::udp:
      break;
  }
  name_ = "udp://" + spec.dest.to_string();
  datagrams_ = true;
  fd_ = ::socket(spec.dest.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  own_fd_ = fd_ >= 0;
  if (fd_ >= 0 && spec.dest.is_multicast() && iface_index != 0) {
    if (spec.dest.family() == AF_INET) {
      ip_mreqn m{};
      m.imr_ifindex = static_cast<int>(iface_index);
      ::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
    } else {
      const int idx = static_cast<int>(iface_index);
      ::setsockopt(fd_, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
    }
  }
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&spec.dest.ss), spec.dest.len) != 0) {
    *error = name_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

Output::~Output() {
  if (own_fd_) ::close(fd_);
}

void Output::add(std::span<const std::uint8_t> payload) {
  iov_.push_back({const_cast<std::uint8_t*>(payload.data()), payload.size()});
}

bool Output::flush(std::string* error) {
  if (iov_.empty()) return true;
  const bool ok = datagrams_ ? send_datagrams(error) : write_stream(error);
  iov_.clear();
  return ok;
}

bool Output::write_stream(std::string* error) {
  std::size_t first = 0;
  while (first < iov_.size()) {
    const int n = static_cast<int>(std::min<std::size_t>(iov_.size() - first, IOV_MAX));
    const ssize_t w = ::writev(fd_, &iov_[first], n);
    if (w < 0) {
      if (errno == EINTR) continue;
      *error = "write " + name_ + ": " + std::strerror(errno);
      return false;
    }
    auto left = static_cast<std::size_t>(w);
    while (first < iov_.size() && left >= iov_[first].iov_len) {
      left -= iov_[first].iov_len;
      ++first;
      ++written_;
    }
    if (left > 0) {  // a short write inside one payload
      iov_[first].iov_base = static_cast<std::uint8_t*>(iov_[first].iov_base) + left;
      iov_[first].iov_len -= left;
    }
  }
  return true;
}

bool Output::send_datagrams(std::string* error) {
  msgs_.assign(iov_.size(), mmsghdr{});
  for (std::size_t i = 0; i < iov_.size(); ++i) {
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  std::size_t sent = 0;
  while (sent < msgs_.size()) {
    const int r = ::sendmmsg(fd_, &msgs_[sent], static_cast<unsigned>(msgs_.size() - sent), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNREFUSED) {  // nobody listens on a unicast destination: not fatal
        ++sent;
        continue;
      }
      *error = "send " + name_ + ": " + std::strerror(errno);
      return false;
    }
    sent += static_cast<std::size_t>(r);
    written_ += static_cast<std::uint64_t>(r);
  }
  return true;
}

}  // namespace keycast_recv
