// Descriptor limits (RLIMIT_NOFILE) of this process and of the key manager:
// thousands of connections need more than the usual 1024 on both ends.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <string>

namespace hostile {

// The soft limit of pid (0: this process); 0 if it cannot be read.
rlim_t nofile(pid_t pid);
// Raises pid's soft limit (and its hard limit where that is lower and we may)
// to at least want; false, with why, if it cannot.
bool raise_nofile(pid_t pid, rlim_t want, std::string* why);

}  // namespace hostile
