// Walking the parameters of a frame.
#include "kmproto/param.h"

#include "pktparse/bytes.h"

namespace kmproto {

bool ParamIterator::next(Param& out) noexcept {
  while (!rest_.empty()) {
    if (rest_.size() < kParamHeaderLen) {
      status_ = Status::param_header_truncated;
      rest_ = {};
      return false;
    }
    const auto type = static_cast<ParamType>(pktparse::load_be16(rest_.data()));
    const std::size_t len = pktparse::load_be16(rest_.data() + 2);
    if (rest_.size() - kParamHeaderLen < len) {
      status_ = Status::param_overruns_frame;
      rest_ = {};
      return false;
    }
    const auto value = rest_.subspan(kParamHeaderLen, len);
    rest_ = rest_.subspan(kParamHeaderLen + len);
    if (only_ && *only_ != type) continue;
    out = {type, value};
    return true;
  }
  return false;
}

}  // namespace kmproto
