// Bytes of a model from a file (memory-mapped, read-only) so nothing is copied.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace netscore::onnx {

// A read-only memory map of a whole file; movable, unmaps on destruction.
// External-data files are never opened: analysis needs only the dims stored in the model.
// A file that shrinks while mapped does not crash the process: reads past its new end see zeros, and
// check_unchanged() (call it after reading, also when reading failed) then throws.
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
  // Throws FileError naming the path when the file changed size while it was mapped (its bytes may be torn).
  void check_unchanged() const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;        // kept open to compare the file's size after reading
  int slot_ = -1;      // guard slot (see loader.cpp); -1: the bytes were read into memory instead of mapped
  std::string path_;
};

}  // namespace netscore::onnx
