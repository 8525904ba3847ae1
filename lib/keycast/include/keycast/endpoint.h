// "host:port" and "[v6]:port" to a key manager endpoint.
#pragma once

#include <optional>
#include <string_view>

#include "kmclient/config.h"

namespace keycast {

std::optional<kmclient::Endpoint> parse_endpoint(std::string_view text);

}  // namespace keycast
