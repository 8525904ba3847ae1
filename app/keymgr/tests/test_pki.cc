// test_pki: certificates for TLS tests, with the openssl CLI.
#include "test_pki.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace keymgr::test {

namespace {

std::string quoted(const std::filesystem::path& p) {
  std::string s(1, '\'');
  s.append(p.string()).push_back('\'');
  return s;
}

// Runs a shell command with its output in dir/openssl.log; false (with the
// log as a test failure) if it fails.
bool sh(const std::filesystem::path& dir, const std::string& cmd) {
  const auto log = dir / "openssl.log";
  if (std::system((cmd + " >" + quoted(log) + " 2>&1").c_str()) == 0) return true;
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  ADD_FAILURE() << cmd << "\n" << s.str();
  return false;
}

const std::string kNewKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

}  // namespace

bool make_ca(const std::filesystem::path& dir, const std::string& name) {
  return sh(dir, "openssl req -x509 " + kNewKey + " -days 2 -subj /CN=" + name + " -keyout " +
                     quoted(dir / (name + ".key")) + " -out " + quoted(dir / (name + ".pem")) +
                     " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
}

// dir/<file>.pem and .key: CN cn, signed by dir/<ca>.pem, with extensions ext.
bool make_cert(const std::filesystem::path& dir, const std::string& file, const std::string& cn, const std::string& ca,
               const std::string& ext) {
  static int serial = 1;
  const auto ext_file = dir / (file + ".ext");
  std::ofstream(ext_file) << ext << "\n";
  const auto csr = dir / (file + ".csr");
  return sh(dir, "openssl req -new " + kNewKey + " -subj /CN=" + cn + " -keyout " + quoted(dir / (file + ".key")) +
                     " -out " + quoted(csr)) &&
         sh(dir, "openssl x509 -req -days 2 -set_serial " + std::to_string(++serial) + " -in " + quoted(csr) +
                     " -CA " + quoted(dir / (ca + ".pem")) + " -CAkey " + quoted(dir / (ca + ".key")) +
                     " -extfile " + quoted(ext_file) + " -out " + quoted(dir / (file + ".pem")));
}

}  // namespace keymgr::test
