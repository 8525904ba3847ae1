// Tests for gtest_file_main_test.py: one of the two files of its binary.
#include <gtest/gtest.h>

TEST(Alpha, One) {}
TEST(Alpha, Two) {}
