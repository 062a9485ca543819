// Bytes of a model from a file (memory-mapped, read-only) so nothing is copied.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace netscore::onnx {

// A read-only memory map of a whole file; movable, unmaps on destruction.
// External-data files are never opened: analysis needs only the dims stored in the model.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws FileError (a ModelError) naming the path
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace netscore::onnx
