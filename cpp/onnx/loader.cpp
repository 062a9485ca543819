// Memory-maps a model file read-only so the decoder reads it in place.
#include "onnx/loader.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

#include "netscore/errors.h"

namespace netscore::onnx {

namespace {
std::string quoted(const std::string& path) { return "'" + path + "'"; }

// ---- surviving a file that shrinks while mapped -------------------------------------------------------
// Reading a mapped page past a file's current end raises SIGBUS (another process truncated it). A
// process-wide handler, installed with the first mapping, puts a zero page over a faulting page inside one
// of our mappings and marks that mapping; its owner then reports the file as changed (check_unchanged).
// Faults anywhere else go to the handler that was installed before. The handler reads only the slots
// below (lock-free atomics) and calls only mmap/sigaction/raise.
constexpr int kGuardSlots = 1024;   // mappings guarded at once; more are read into memory instead
struct GuardSlot {
  std::atomic<int> state{0};        // 0 free, 1 being filled, 2 live
  std::atomic<uintptr_t> begin{0}, end{0};
  std::atomic<int> faulted{0};
};
GuardSlot g_slots[kGuardSlots];
struct sigaction g_previous_action;
uintptr_t g_page_size = 4096;
std::mutex g_install_mutex;

void on_sigbus(int sig, siginfo_t* info, void*) {
  if (info != nullptr && info->si_code > 0) {   // a fault raised by the kernel, not kill() or raise()
    const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
    for (GuardSlot& s : g_slots) {
      if (s.state.load(std::memory_order_acquire) != 2 || addr < s.begin.load(std::memory_order_relaxed) ||
          addr >= s.end.load(std::memory_order_relaxed))
        continue;
      void* page = reinterpret_cast<void*>(addr & ~(g_page_size - 1));
      if (::mmap(page, g_page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) break;
      s.faulted.store(1, std::memory_order_relaxed);
      return;   // the read is retried and sees zeros
    }
  }
  // Not ours: give the signal to the previous handler. A fault repeats when the instruction is retried.
  ::sigaction(SIGBUS, &g_previous_action, nullptr);
  if (info == nullptr || info->si_code <= 0) ::raise(sig);
}

// Installs on_sigbus unless it is the current SIGBUS handler (another library may have replaced it).
void ensure_sigbus_handler() {
  std::lock_guard<std::mutex> lock(g_install_mutex);
  struct sigaction current {};
  if (::sigaction(SIGBUS, nullptr, &current) != 0) return;
  if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == &on_sigbus) return;
  g_page_size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  g_previous_action = current;
  struct sigaction action {};
  action.sa_sigaction = &on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, nullptr);
}

// A free slot guarding [p, p + size), or -1 when all are taken.
int guard(const void* p, size_t size) {
  for (int i = 0; i < kGuardSlots; ++i) {
    int expected = 0;
    if (!g_slots[i].state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) continue;
    g_slots[i].begin.store(reinterpret_cast<uintptr_t>(p), std::memory_order_relaxed);
    g_slots[i].end.store(reinterpret_cast<uintptr_t>(p) + size, std::memory_order_relaxed);
    g_slots[i].faulted.store(0, std::memory_order_relaxed);
    g_slots[i].state.store(2, std::memory_order_release);
    return i;
  }
  return -1;
}

// Releases the slot and the bytes (a mapping, or memory when no slot was free), closes the file.
void release(const uint8_t* data, size_t size, int fd, int slot) {
  if (slot >= 0) g_slots[slot].state.store(0, std::memory_order_release);   // before the range is unmapped
  if (data != nullptr) {
    if (slot >= 0) ::munmap(const_cast<uint8_t*>(data), size);
    else std::free(const_cast<uint8_t*>(data));
  }
  if (fd >= 0) ::close(fd);
}
}  // namespace

MappedFile::MappedFile(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);  // a FIFO must not block: fstat refuses it
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
  ensure_sigbus_handler();
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  if (p == MAP_FAILED) {
    ::close(fd);
    throw FileError("cannot map " + quoted(path) + ": " + std::strerror(err));
  }
  fd_ = fd;   // kept to compare the size after reading
  size_ = size;
  path_ = path;
  slot_ = guard(p, size);
  if (slot_ >= 0) {
    data_ = static_cast<const uint8_t*>(p);
    return;
  }
  // Every guard slot is taken: read the file into memory instead (a short read means it shrank).
  ::munmap(p, size);
  auto* buffer = static_cast<uint8_t*>(std::malloc(size));
  if (buffer == nullptr) {
    release(nullptr, 0, fd_, -1);
    throw FileError("cannot read " + quoted(path) + ": out of memory");
  }
  data_ = buffer;
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::pread(fd, buffer + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::memset(buffer + done, 0, size - done);   // the file shrank: check_unchanged() reports it
      break;
    }
    done += static_cast<size_t>(n);
  }
}

void MappedFile::check_unchanged() const {
  struct stat st {};
  const bool faulted = slot_ >= 0 && g_slots[slot_].faulted.load(std::memory_order_relaxed) != 0;
  if (faulted || (fd_ >= 0 && ::fstat(fd_, &st) == 0 && static_cast<size_t>(st.st_size) != size_))
    throw FileError(quoted(path_) + " changed size while being read");
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      fd_(std::exchange(other.fd_, -1)),
      slot_(std::exchange(other.slot_, -1)),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release(data_, size_, fd_, slot_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
    slot_ = std::exchange(other.slot_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

MappedFile::~MappedFile() { release(data_, size_, fd_, slot_); }

}  // namespace netscore::onnx
