// Internal: whether the CPU and the OS support the ISAs the kernels use.
#pragma once

namespace fastxor::impl {

bool cpu_supports_avx2() noexcept;
bool cpu_supports_avx512bw() noexcept;  // AVX-512 F and BW

}  // namespace fastxor::impl
