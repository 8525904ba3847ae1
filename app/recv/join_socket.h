// A UDP socket receiving one --join: bound to the group and port, joined
// any-source or source-specific (RFC 3678 MCAST_JOIN_GROUP /
// MCAST_JOIN_SOURCE_GROUP, IPv4 and IPv6 alike) on the chosen interface. A
// unicast address is simply bound.
#pragma once

#include <string>

#include "options.h"

namespace keycast_recv {

// The socket, or -1 with *error set.
int open_join(const JoinSpec& join, unsigned iface_index, std::string* error);

}  // namespace keycast_recv
