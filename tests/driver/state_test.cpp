#include "state.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

fs::path temp_folder() {
  std::string pattern = (fs::temp_directory_path() / "lab-state-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

}  // namespace

TEST_CASE("progress survives a save and a load") {
  const fs::path file = temp_folder() / "progress.json";
  {
    lab::progress_store store(file);
    store.update([](lab::progress_store& p) {
      p.record_run("primes", true, {1, 2, 3});
      p.exercise("primes")["hints_shown"] = 2;
    });
  }
  lab::progress_store again(file);
  REQUIRE(again.find_exercise("primes") != nullptr);
  CHECK((*again.find_exercise("primes"))["status"] == "done");
  CHECK((*again.find_exercise("primes"))["hints_shown"] == 2);
  CHECK(again.find_exercise("primes")->contains("passed_at"));
  CHECK(again.warning().empty());
}

TEST_CASE("a corrupt progress file is moved aside with a warning and never overwritten") {
  const fs::path folder = temp_folder();
  const fs::path file = folder / "progress.json";
  std::ofstream(file) << "{ this is not json";
  lab::progress_store store(file);
  CHECK(store.warning().find("was unreadable") != std::string::npos);
  int kept = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().filename().string().rfind("progress.json.corrupt-", 0) != 0) continue;
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(text == "{ this is not json");
    ++kept;
  }
  CHECK(kept == 1);
  store.update([](lab::progress_store& p) { p.record_run("primes", false, {}); });
  CHECK(fs::exists(file));
}

TEST_CASE("saving leaves no temporary file behind") {
  const fs::path folder = temp_folder();
  lab::progress_store store(folder / "progress.json");
  store.update([](lab::progress_store&) {});
  int files = 0;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().filename() != "progress.lock") ++files;
  CHECK(files == 1);
}

TEST_CASE("an update made through a stale copy keeps what another copy wrote meanwhile") {
  // The REPL holds its copy for a whole session while `lab hint` in another
  // terminal writes: before updates merged on disk, the REPL's next save
  // wrote its stale copy back and the hint was lost.
  const fs::path file = temp_folder() / "progress.json";
  lab::progress_store repl(file);
  lab::progress_store hint(file);
  hint.update([](lab::progress_store& p) { p.exercise("bank")["hints_shown"] = 1; });
  repl.update([](lab::progress_store& p) { p.data()["lessons"]["gil"]["seen"] = {1}; });
  lab::progress_store disk(file);
  REQUIRE(disk.find_exercise("bank") != nullptr);
  CHECK((*disk.find_exercise("bank"))["hints_shown"] == 1);
  CHECK(disk.data()["lessons"]["gil"]["seen"] == nlohmann::json::array({1}));
}

TEST_CASE("many updates at once from many processes lose none") {
  const fs::path file = temp_folder() / "progress.json";
  constexpr int writers = 16;
  std::vector<pid_t> children;
  for (int w = 0; w < writers; ++w) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      lab::progress_store mine(file);  // loaded before the others write: stale at once
      for (int round = 0; round < 5; ++round)
        mine.update([&](lab::progress_store& p) {
          p.exercise("writer" + std::to_string(w))["hints_shown"] = round + 1;
        });
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
  }
  lab::progress_store disk(file);
  for (int w = 0; w < writers; ++w) {
    INFO("writer ", w);
    REQUIRE(disk.find_exercise("writer" + std::to_string(w)) != nullptr);
    CHECK((*disk.find_exercise("writer" + std::to_string(w)))["hints_shown"] == 5);
  }
}

TEST_CASE("two corrupt files set aside in the same second keep two backups") {
  const fs::path folder = temp_folder();
  const fs::path file = folder / "progress.json";
  std::ofstream(file) << "first broken";
  lab::progress_store first(file);
  std::ofstream(file) << "second broken";
  lab::progress_store second(file);
  std::vector<std::string> kept;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().filename().string().rfind("progress.json.corrupt-", 0) == 0) {
      std::ifstream in(entry.path());
      kept.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
  std::sort(kept.begin(), kept.end());
  CHECK(kept == std::vector<std::string>{"first broken", "second broken"});
}

TEST_CASE("the progress file follows LAB_STATE_DIR when it is set") {
  setenv("LAB_STATE_DIR", "/tmp/somewhere", 1);
  CHECK(lab::progress_file_for("/course") == fs::path("/tmp/somewhere/progress.json"));
  unsetenv("LAB_STATE_DIR");
  CHECK(lab::progress_file_for("/course") == fs::path("/course/.lab/progress.json"));
}
