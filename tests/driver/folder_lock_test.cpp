#include "folder_lock.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path fresh_folder() {
  std::string pattern = (fs::temp_directory_path() / "lab-lock-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

// Waits until `flag` is set, for at most a generous while (it is set at once
// unless the lock is broken; the bound only keeps a broken lock from hanging).
bool wait_for(const std::atomic<bool>& flag) {
  for (int i = 0; i < 12000 && !flag.load(); ++i) std::this_thread::sleep_for(10ms);
  return flag.load();
}

}  // namespace

TEST_CASE("a free folder lock is taken without a word") {
  const fs::path dir = fresh_folder();
  bool told = false;
  {
    const lab::folder_lock lock(dir, [&] { told = true; });
    CHECK(lock.held());
  }
  CHECK_FALSE(told);
  fs::remove_all(dir);
}

TEST_CASE("a folder lock held elsewhere is waited for after saying so once") {
  const fs::path dir = fresh_folder();
  std::optional<lab::folder_lock> first(std::in_place, dir);
  std::atomic<bool> told{false}, taken{false};
  int times_told = 0;
  std::thread second([&] {
    const lab::folder_lock lock(dir, [&] {
      ++times_told;
      told = true;
    });
    taken = true;
  });
  CHECK(wait_for(told));
  CHECK_FALSE(taken.load());  // still held by the first
  first.reset();
  CHECK(wait_for(taken));
  second.join();
  CHECK(times_told == 1);
  fs::remove_all(dir);
}
