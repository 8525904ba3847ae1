// A throwaway PKI for TLS tests, made with the openssl CLI: CAs and
// certificates signed by them, as dir/<name>.pem and dir/<name>.key.
#pragma once

#include <filesystem>
#include <string>

namespace keymgr::test {

inline const std::string kClientCertExt = "extendedKeyUsage=clientAuth";
inline const std::string kServerCertExt = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth";

// A self-signed CA with CN name. False (with the openssl output as a test
// failure) if openssl fails.
bool make_ca(const std::filesystem::path& dir, const std::string& name);
// dir/<file>.pem and .key: CN cn, signed by dir/<ca>.pem, extensions ext.
bool make_cert(const std::filesystem::path& dir, const std::string& file, const std::string& cn,
               const std::string& ca, const std::string& ext);

}  // namespace keymgr::test
