// The gateway's log: one line on stderr, prefixed "keycast-gateway: ".
#pragma once

#include <string>

namespace gateway {

void log_line(const std::string& line);

}  // namespace gateway
