// Tests for gtest_file_main_test.py: the other file of its binary.
#include <gtest/gtest.h>

TEST(Beta, One) {}

class BetaParam : public ::testing::TestWithParam<int> {};
TEST_P(BetaParam, Runs) {}
INSTANTIATE_TEST_SUITE_P(Values, BetaParam, ::testing::Values(1, 2));
