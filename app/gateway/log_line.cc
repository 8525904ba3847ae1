#include "log_line.h"

#include <cstdio>

namespace gateway {

void log_line(const std::string& line) { std::fprintf(stderr, "keycast-gateway: %s\n", line.c_str()); }

}  // namespace gateway
