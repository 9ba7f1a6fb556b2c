#include "tests/reports/png_image.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace editgate::reports::testing {
namespace {

uint32_t be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

}  // namespace

RgbImage read_png(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 8 || !std::equal(kSignature, kSignature + 8, bytes.begin())) {
    throw std::runtime_error(path.string() + ": not a PNG file");
  }
  RgbImage img;
  int channels = 0;
  std::vector<uint8_t> idat;
  for (size_t pos = 8; pos + 12 <= bytes.size();) {
    const uint32_t len = be32(&bytes[pos]);
    const std::string type(reinterpret_cast<const char*>(&bytes[pos + 4]), 4);
    if (pos + 12 + len > bytes.size()) throw std::runtime_error(path.string() + ": truncated chunk " + type);
    const uint8_t* data = &bytes[pos + 8];
    if (type == "IHDR") {
      img.width = static_cast<int>(be32(data));
      img.height = static_cast<int>(be32(data + 4));
      const int depth = data[8], colour = data[9], interlace = data[12];
      channels = colour == 0 ? 1 : colour == 2 ? 3 : colour == 6 ? 4 : 0;
      if (depth != 8 || channels == 0 || interlace != 0) {
        throw std::runtime_error(path.string() + ": unsupported PNG (depth " + std::to_string(depth) + ", colour type " +
                                 std::to_string(colour) + ", interlace " + std::to_string(interlace) + ")");
      }
    } else if (type == "IDAT") {
      idat.insert(idat.end(), data, data + len);
    }
    pos += 12 + len;
  }
  const size_t stride = static_cast<size_t>(img.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * img.height);
  uLongf raw_len = raw.size();
  if (channels == 0 || uncompress(raw.data(), &raw_len, idat.data(), idat.size()) != Z_OK || raw_len != raw.size()) {
    throw std::runtime_error(path.string() + ": cannot inflate the image data");
  }
  std::vector<uint8_t> prev(stride, 0), cur(stride);
  img.rgb.resize(static_cast<size_t>(img.width) * img.height * 3);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* row = &raw[y * (stride + 1)];
    const int filter = row[0];
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= static_cast<size_t>(channels) ? cur[x - channels] : 0;
      const int b = prev[x];
      const int c = x >= static_cast<size_t>(channels) ? prev[x - channels] : 0;
      const int v = row[1 + x];
      const int pred = filter == 1 ? a : filter == 2 ? b : filter == 3 ? (a + b) / 2 : filter == 4 ? paeth(a, b, c) : 0;
      cur[x] = static_cast<uint8_t>(v + pred);
    }
    for (int x = 0; x < img.width; ++x) {
      for (int k = 0; k < 3; ++k) {
        img.rgb[(static_cast<size_t>(y) * img.width + x) * 3 + k] = cur[x * channels + (channels == 1 ? 0 : k)];
      }
    }
    std::swap(prev, cur);
  }
  return img;
}

}  // namespace editgate::reports::testing
