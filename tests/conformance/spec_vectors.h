// Shared by the conformance tests: hex decoding and loading a vectors file
// from the spec directory (KEYCAST_SPEC_DIR at run time, else -Dspec_dir).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace keycast::conformance {

inline std::vector<std::uint8_t> unhex(const std::string& s) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  return out;
}

// The parsed vectors/<file>; a test failure (not a skip) when it is missing:
// the vectors are normative.
inline nlohmann::json load_vectors(const std::string& file) {
  const char* dir = std::getenv("KEYCAST_SPEC_DIR");
  const std::string path = std::string(dir ? dir : KEYCAST_SPEC_DIR) + "/vectors/" + file;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path << " (set KEYCAST_SPEC_DIR or -Dspec_dir)";
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(in);
}

}  // namespace keycast::conformance
