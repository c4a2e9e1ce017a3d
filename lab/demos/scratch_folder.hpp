// A folder of its own under /tmp for what a demo compiles or writes (a
// program, a database), removed with everything in it when the demo is done,
// however it ends.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

namespace lab::demos {

class scratch_folder {
 public:
  // /tmp/lab-NAME-XXXXXX; nullopt if /tmp does not let us make it.
  static std::optional<scratch_folder> make(const std::string& name) {
    std::string pattern = "/tmp/lab-" + name + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return std::nullopt;
    return scratch_folder(pattern);
  }
  scratch_folder(scratch_folder&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  scratch_folder& operator=(scratch_folder&&) = delete;
  scratch_folder(const scratch_folder&) = delete;
  scratch_folder& operator=(const scratch_folder&) = delete;
  ~scratch_folder() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit scratch_folder(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace lab::demos
