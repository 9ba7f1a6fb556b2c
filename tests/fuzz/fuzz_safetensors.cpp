// The safetensors reader on arbitrary bytes: header length, JSON header,
// dtypes, shapes, offsets, coverage. A file that opens must give every
// tensor's bytes inside the mapping and a tensor of the declared shape.
// Bad input must end in InputError; anything else is a finding. Links libtorch
// (the reader returns at::Tensor), so it is built only when libtorch is found.

#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "harness/input_error.h"
#include "harness/safetensors_reader.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace editgate;
  const auto file = fuzz::write_input("input.safetensors", data, size);
  std::shared_ptr<const harness::SafetensorsFile> f;
  try {
    f = harness::SafetensorsFile::open(file);
  } catch (const InputError&) {
    return 0;
  }
  for (const auto& info : f->tensors()) {
    const auto bytes = f->bytes(info.name);
    if (bytes.size() != info.end - info.begin) std::abort();
    volatile std::byte sink{};
    for (const auto b : bytes) sink = b;  // every byte readable (ASan checks the mapping)
    try {
      const auto t = f->tensor(info.name);
      if (t.sizes().vec() != info.shape) std::abort();
    } catch (const InputError&) {  // dtypes libtorch cannot hold (F4, F6_*)
    }
  }
  return 0;
}
