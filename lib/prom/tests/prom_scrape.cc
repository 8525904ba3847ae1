// scrape, value, scrape_until (see prom_scrape.h).
#include "prom_scrape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace prom::test {

namespace {

int connect_local(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string scrape(std::uint16_t port) {
  const int fd = connect_local(port);
  if (fd < 0) return {};
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return {};
  }
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
  close(fd);
  const auto body = reply.find("\r\n\r\n");
  if (reply.rfind("HTTP/1.", 0) != 0 || reply.find(" 200 ") == std::string::npos || body == std::string::npos) return {};
  return reply.substr(body + 4);
}

std::optional<double> value(const std::string& body, const std::string& series) {
  const std::string key = "\n" + series + " ";
  const auto at = ("\n" + body).find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(body.substr(at + key.size() - 1));
}

std::string scrape_until(std::uint16_t port, const std::function<bool(const std::string&)>& done) {
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body = scrape(port);
    if (done(body)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return body;
}

}  // namespace prom::test
