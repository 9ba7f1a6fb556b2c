#pragma once
// A minimal PNG decoder for the browser test's screenshots: 8-bit greyscale,
// RGB or RGBA, not interlaced (what Chromium writes). Test support only.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace editgate::reports::testing {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // [height][width][3]
};

// Throws std::runtime_error saying what it could not read.
RgbImage read_png(const std::filesystem::path& path);

}  // namespace editgate::reports::testing
