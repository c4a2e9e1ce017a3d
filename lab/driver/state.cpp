#include "state.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lab/unique_fd.hpp"

namespace lab {
namespace fs = std::filesystem;
namespace {

std::string now_text(const char* format) {
  return fmt::format(
      fmt::runtime(format),
      fmt::localtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

nlohmann::json fresh() {
  return {{"version", 1},
          {"exercises", nlohmann::json::object()},
          {"lessons", nlohmann::json::object()}};
}

}  // namespace

progress_store::progress_store(fs::path file) : file_(std::move(file)), data_(fresh()) { load(); }

void progress_store::reload() {
  if (!file_.empty()) load();
}

void progress_store::load() {
  data_ = fresh();
  std::error_code ec;
  if (!fs::exists(file_, ec)) return;
  std::ifstream in(file_);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json loaded = nlohmann::json::parse(text.str(), nullptr, false);
  if (in && !loaded.is_discarded() && loaded.is_object() && loaded.value("version", 0) == 1) {
    data_ = std::move(loaded);
    if (!data_.contains("exercises") || !data_["exercises"].is_object())
      data_["exercises"] = nlohmann::json::object();
    if (!data_.contains("lessons") || !data_["lessons"].is_object())
      data_["lessons"] = nlohmann::json::object();
    return;
  }
  // A name no earlier backup has: the time, this process, and a count.
  static int backups = 0;
  fs::path aside;
  do {
    aside = file_.string() + ".corrupt-" + now_text("{:%Y%m%d-%H%M%S}") +
            fmt::format("-{}-{}", getpid(), ++backups);
  } while (fs::exists(aside, ec));
  fs::rename(file_, aside, ec);
  warning_ = ec ? fmt::format(
                      "warning: {} is unreadable and could not be moved aside ({}); progress will "
                      "not be saved",
                      file_.string(), ec.message())
                : fmt::format("warning: {} was unreadable; kept it as {} and started a fresh one",
                              file_.string(), aside.string());
  if (ec) file_.clear();
}

void progress_store::update(const std::function<void(progress_store&)>& change) {
  if (file_.empty()) {  // the unreadable file could not be moved aside: leave it alone
    change(*this);
    return;
  }
  std::error_code ec;
  fs::create_directories(file_.parent_path(), ec);
  const fs::path lock_file = file_.parent_path() / "progress.lock";
  const unique_fd lock(open(lock_file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
  if (!lock) throw std::runtime_error(fmt::format("cannot open {}", lock_file.string()));
  while (flock(lock.get(), LOCK_EX) != 0)
    if (errno != EINTR) throw std::runtime_error(fmt::format("cannot lock {}", lock_file.string()));
  load();  // what is on disk now: other commands' updates are kept
  change(*this);
  save();
}  // closing the lock file releases the lock

nlohmann::json& progress_store::exercise(const std::string& name) {
  auto& record = data_["exercises"][name];
  if (!record.is_object()) record = {{"status", "not started"}, {"hints_shown", 0}};
  return record;
}

const nlohmann::json* progress_store::find_exercise(const std::string& name) const {
  const auto& exercises = data_["exercises"];
  auto found = exercises.find(name);
  return found == exercises.end() || !found->is_object() ? nullptr : &*found;
}

void progress_store::record_run(const std::string& name, bool passed,
                                const std::vector<int>& stages_passed) {
  auto& record = exercise(name);
  record["status"] = passed ? "done" : "failing";
  record["stages_passed"] = stages_passed;
  record["last_run"] = now_text("{:%Y-%m-%d %H:%M}");
  if (passed && !record.contains("passed_at")) record["passed_at"] = now_text("{:%Y-%m-%d %H:%M}");
}

void progress_store::save() const {
  if (file_.empty()) return;  // the unreadable file could not be moved aside: leave it alone
  std::error_code ec;
  fs::create_directories(file_.parent_path(), ec);
  const fs::path temporary = file_.string() + fmt::format(".tmp-{}", getpid());
  {
    std::ofstream out(temporary);
    out << data_.dump(2) << "\n";
    out.flush();
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", temporary.string()));
  }
  fs::rename(temporary, file_,
             ec);  // atomic: readers see the old file or the new, never half of one
  if (ec)
    throw std::runtime_error(fmt::format("cannot replace {}: {}", file_.string(), ec.message()));
}

fs::path progress_file_for(const fs::path& root) {
  if (const char* dir = std::getenv("LAB_STATE_DIR"); dir != nullptr && *dir != '\0')
    return fs::path(dir) / "progress.json";
  return root / ".lab" / "progress.json";
}

}  // namespace lab
