// Waiting for a file to be saved again (lab exercise NAME --watch), with
// Linux's inotify. The watch is on the file's folder, not on the file: an
// editor that saves by writing a new file and renaming it over the old one
// (vim, many IDEs) replaces the file a watch on it would follow.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include "lab/unique_fd.hpp"

namespace lab {

class file_watch {
 public:
  // Starts watching; saves made from now on count. Throws std::system_error
  // if inotify cannot be used (too many watches on this machine, say).
  explicit file_watch(const std::filesystem::path& file);

  // Blocks until the file was saved (written and closed, or renamed into
  // place), then waits until the saves stop for a moment, so that an editor's
  // several steps count as one save. Returns false, without waiting for a
  // save, once *cancel is true (Ctrl-C: a signal interrupts the wait).
  bool wait_for_save(const std::atomic<bool>* cancel);

 private:
  // Reads the events waiting; true if one was about the file.
  bool drain();

  std::string name_;  // the file's name within the watched folder
  unique_fd fd_;
};

}  // namespace lab
