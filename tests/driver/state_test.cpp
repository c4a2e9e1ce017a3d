#include "state.hpp"

#include <doctest/doctest.h>

#include <fstream>

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
    store.record_run("primes", true, {1, 2, 3});
    store.exercise("primes")["hints_shown"] = 2;
    store.save();
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
  store.record_run("primes", false, {});
  store.save();
  CHECK(fs::exists(file));
}

TEST_CASE("saving leaves no temporary file behind") {
  const fs::path folder = temp_folder();
  lab::progress_store store(folder / "progress.json");
  store.save();
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++files;
  CHECK(files == 1);
}

TEST_CASE("the progress file follows LAB_STATE_DIR when it is set") {
  setenv("LAB_STATE_DIR", "/tmp/somewhere", 1);
  CHECK(lab::progress_file_for("/course") == fs::path("/tmp/somewhere/progress.json"));
  unsetenv("LAB_STATE_DIR");
  CHECK(lab::progress_file_for("/course") == fs::path("/course/.lab/progress.json"));
}
