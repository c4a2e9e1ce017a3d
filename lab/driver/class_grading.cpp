#include "class_grading.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <system_error>

#include "exit_codes.hpp"
#include "folder_lock.hpp"
#include "report.hpp"

namespace lab {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

int stages_passed_in(const exercise_result& r) {
  return static_cast<int>(std::count_if(r.stages.begin(), r.stages.end(),
                                        [](const stage_result& s) { return s.passed(); }));
}

int total_stages(const course& c) {
  int total = 0;
  for (const auto& e : c.exercises) total += static_cast<int>(e.stages.size());
  return total;
}

// The work folder: a course of its own whose exercises/ holds one student's
// files at a time, and whose checks, solutions and lessons are the course's.
course work_course(const course& c, const fs::path& work) {
  fs::create_directories(work / "exercises");
  fs::copy_file(c.root / "exercises" / "info.json", work / "exercises" / "info.json",
                fs::copy_options::overwrite_existing);
  for (const char* folder : {"solutions", "lessons"}) {
    std::error_code ec;
    if (!fs::exists(work / folder, ec) && fs::exists(c.root / folder, ec))
      fs::create_directory_symlink(fs::absolute(c.root / folder), work / folder);
  }
  course result = c;
  result.root = work;  // exercise files come from here; checks_root stays the course's
  return result;
}

// Puts `files` (exercise → where the student handed it in) in place of the
// previous student's.
void hand_in(const course& work, const std::vector<fs::path>& files) {
  for (const auto& entry : fs::directory_iterator(work.root / "exercises"))
    if (entry.path().filename() != "info.json") fs::remove_all(entry.path());
  for (std::size_t i = 0; i < files.size(); ++i)
    if (!files[i].empty())
      fs::copy_file(files[i], work.exercise_file(work.exercises[i]),
                    fs::copy_options::overwrite_existing);
}

// A cell of the table: "2/3", "2/3?" (undecided), "0/3!" (did not build),
// "-" (not handed in).
std::string cell(const exercise& e, const std::optional<exercise_result>& r) {
  if (!r) return "-";
  std::string text = fmt::format("{}/{}", stages_passed_in(*r), e.stages.size());
  if (!r->build.ok) return text + "!";
  if (r->undecided()) return text + "?";
  return text;
}

// A CSV field, quoted when it must be (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

}  // namespace

int student_result::stages_passed() const {
  int total = 0;
  for (const auto& r : exercises)
    if (r) total += stages_passed_in(*r);
  return total;
}

bool student_result::undecided() const {
  return std::any_of(exercises.begin(), exercises.end(),
                     [](const auto& r) { return r && r->undecided(); });
}

bool student_result::course_bug() const {
  return std::any_of(exercises.begin(), exercises.end(),
                     [](const auto& r) { return r && r->build.course_bug; });
}

std::vector<fs::path> find_students(const fs::path& dir) {
  std::vector<fs::path> students;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().front() != '.')
      students.push_back(entry.path());
  std::sort(students.begin(), students.end());
  return students;
}

fs::path handed_in(const fs::path& student, const exercise& e) {
  std::error_code ec;
  const fs::path home = fs::canonical(student, ec);
  for (const fs::path& place : {student / "exercises" / e.file, student / e.file}) {
    if (!fs::is_regular_file(place, ec)) continue;
    // A symbolic link (git keeps them) could hand in a file that is not the
    // student's, such as the course's own solution: only files that really
    // are in the student's folder count.
    const fs::path real = fs::canonical(place, ec);
    if (ec) continue;
    const auto [end, _] = std::mismatch(home.begin(), home.end(), real.begin(), real.end());
    if (end == home.end()) return place;
  }
  return {};
}

std::vector<student_result> grade_class(
    const course& c, const fs::path& dir, run_options options,
    const std::function<void(const std::string&, std::size_t, std::size_t)>& on_student) {
  options.source = code_source::exercise;
  options.timings = false;
  const fs::path work_dir = c.root / ".lab" / "class";
  fs::create_directories(work_dir);
  // Two labs grading in this course at once would hand in over each other.
  const folder_lock lock(work_dir, [&] {
    if (options.notice) options.notice("waiting for another lab grading a class in this course");
  });
  const course work = work_course(c, work_dir);
  const auto students = find_students(dir);
  std::vector<student_result> results;
  for (std::size_t index = 0; index < students.size(); ++index) {
    if (options.cancel != nullptr && options.cancel->load()) break;
    student_result student;
    student.name = students[index].filename().string();
    if (on_student) on_student(student.name, index, students.size());
    std::vector<fs::path> files;
    for (const auto& e : c.exercises) files.push_back(handed_in(students[index], e));
    hand_in(work, files);
    for (std::size_t i = 0; i < c.exercises.size(); ++i) {
      if (files[i].empty()) {
        student.exercises.emplace_back();
        continue;
      }
      const exercise& e = work.exercises[i];
      exercise_result r = run_checks(work, e, options);
      // A file copied within one tick of the clock after the last student's
      // object was written would look older than it: the build would keep
      // that student's code. Never seen (a whole run lies between), but a
      // grade must not depend on it: mark the file newer and build again.
      if (r.build.ok && !r.build.rebuilt) {
        fs::last_write_time(work.exercise_file(e),
                            fs::file_time_type::clock::now() + std::chrono::seconds(1));
        r = run_checks(work, e, options);
      }
      student.exercises.emplace_back(std::move(r));
    }
    // Ctrl-C during this student: half a grade is no grade; leave them out.
    if (options.cancel != nullptr && options.cancel->load()) break;
    results.push_back(std::move(student));
  }
  hand_in(work, std::vector<fs::path>(c.exercises.size()));  // leave no student's code behind
  return results;
}

int exit_code_for(const std::vector<student_result>& students) {
  const auto any = [&](auto predicate) {
    return std::any_of(students.begin(), students.end(), predicate);
  };
  if (any([](const student_result& s) { return s.course_bug(); })) return exit_code::lab_error;
  if (any([](const student_result& s) { return s.undecided(); })) return exit_code::undecided;
  return exit_code::ok;
}

void print_class(std::ostream& out, const course& c, const std::vector<student_result>& students,
                 const style& s) {
  std::size_t name_width = std::string("student").size();
  for (const auto& student : students) name_width = std::max(name_width, student.name.size());
  std::string header = fmt::format("{:<{}}", "student", name_width);
  for (const auto& e : c.exercises)
    header += fmt::format("  {:>{}}", e.name, std::max<std::size_t>(e.name.size(), 5));
  header += "  stages";
  out << s.strong(header) << "\n";
  const int total = total_stages(c);
  bool any_missing = false, any_unbuilt = false, any_undecided = false;
  for (const auto& student : students) {
    std::string row = fmt::format("{:<{}}", student.name, name_width);
    for (std::size_t i = 0; i < c.exercises.size(); ++i) {
      const auto& e = c.exercises[i];
      const std::string text = cell(e, student.exercises[i]);
      any_missing |= text == "-";
      any_unbuilt |= text.back() == '!';
      any_undecided |= text.back() == '?';
      row += fmt::format("  {:>{}}", text, std::max<std::size_t>(e.name.size(), 5));
    }
    row += fmt::format("  {}/{}", student.stages_passed(), total);
    out << row << "\n";
  }
  std::vector<std::string> legend;
  if (any_missing) legend.push_back("-: not handed in");
  if (any_unbuilt) legend.push_back("!: did not compile");
  if (any_undecided)
    legend.push_back("?: the machine was too busy to decide a stage (grade again)");
  if (!legend.empty()) {
    std::string text;
    for (const auto& each : legend) text += (text.empty() ? "" : "; ") + each;
    out << s.note(text) << "\n";
  }
  out << fmt::format("\n{} student{} graded\n", students.size(), students.size() == 1 ? "" : "s");
}

json class_json(const course& c, const std::vector<student_result>& students) {
  json list = json::array();
  for (const auto& student : students) {
    json exercises = json::array();
    for (std::size_t i = 0; i < c.exercises.size(); ++i) {
      const auto& r = student.exercises[i];
      exercises.push_back({{"exercise", c.exercises[i].name},
                           {"handed_in", r.has_value()},
                           {"stages_passed", r ? stages_passed_in(*r) : 0},
                           {"stages", c.exercises[i].stages.size()},
                           {"result", r ? exercise_json(*r) : json()}});
    }
    list.push_back({{"student", student.name},
                    {"stages_passed", student.stages_passed()},
                    {"stages", total_stages(c)},
                    {"undecided", student.undecided()},
                    {"exercises", exercises}});
  }
  return {{"students", list}, {"stages", total_stages(c)}};
}

std::string class_csv(const course& c, const std::vector<student_result>& students) {
  std::string text = "student";
  for (const auto& e : c.exercises) text += "," + csv_field(e.name);
  text += ",stages passed,stages\r\n";
  for (const auto& student : students) {
    text += csv_field(student.name);
    for (const auto& r : student.exercises)
      text += "," + (r ? std::to_string(stages_passed_in(*r)) : std::string());
    text += fmt::format(",{},{}\r\n", student.stages_passed(), total_stages(c));
  }
  return text;
}

}  // namespace lab
