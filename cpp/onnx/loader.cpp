// Memory-maps a model file read-only so the decoder reads it in place.
#include "onnx/loader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "netscore/errors.h"

namespace netscore::onnx {

namespace {
std::string quoted(const std::string& path) { return "'" + path + "'"; }
}  // namespace

MappedFile::MappedFile(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw FileError("cannot open " + quoted(path) + ": " + std::strerror(errno));

  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw FileError("cannot stat " + quoted(path) + ": " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw FileError(quoted(path) + " is a directory");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FileError(quoted(path) + " is not a regular file");
  }
  if (st.st_size == 0) {  // mmap of length 0 fails with EINVAL; say what is wrong instead
    ::close(fd);
    throw ModelError(quoted(path) + " is an empty file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (p == MAP_FAILED) throw FileError("cannot map " + quoted(path) + ": " + std::strerror(err));
  data_ = static_cast<const uint8_t*>(p);
  size_ = size;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace netscore::onnx
