#pragma once
// Shared by the fuzz targets: each target is a libFuzzer entry point
// (LLVMFuzzerTestOneInput) that feeds one input to a reader and lets only
// ConfigError (bad input: exit 2) pass. Anything else escaping — another
// exception, a sanitizer report, a broken invariant (fuzz_require) — is a
// finding. The same sources build with libFuzzer (clang, tests/fuzz/run.sh) and,
// with replay_main.cc, as ordinary programs that replay the checked-in corpus
// and every regression input under ctest.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <unistd.h>

namespace servesim::fuzz {

/// Aborts (a finding) with `what` when `condition` is false.
inline void fuzz_require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

/// The readers under test open files by path: each input is written to this process's scratch
/// file (in /dev/shm when there is one), removed when the process exits normally.
class ScratchFile {
 public:
  explicit ScratchFile(const char* suffix)
      : path_(std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/servesim-fuzz-" +
              std::to_string(getpid()) + suffix) {}
  ~ScratchFile() { std::remove(path_.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  /// Replaces the file's contents with `data` and returns its path.
  const std::string& write(const uint8_t* data, std::size_t size) {
    std::FILE* file = std::fopen(path_.c_str(), "wb");
    fuzz_require(file != nullptr, "scratch file cannot be created");
    if (size > 0) fuzz_require(std::fwrite(data, 1, size, file) == size, "scratch file cannot be written");
    fuzz_require(std::fclose(file) == 0, "scratch file cannot be written");
    return path_;
  }

 private:
  std::string path_;
};

}  // namespace servesim::fuzz
