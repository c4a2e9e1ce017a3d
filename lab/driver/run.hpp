// The run layer: the one way lab starts a program in the box and reads it
// back. Exercise checks, timing runs, the ThreadSanitizer pass, demos,
// `lab bench` and every question lab asks a program ("which checks?") go
// through run_in_box; nothing else builds a sandbox request.
//
//   run_spec spec;                        what to run, with which profile
//   spec.argv = {program};
//   spec.env = {{protocol::env::check_stage, "2"}};
//   const run_result run = run_in_box(spec);
//   for (const auto& e : run.events) ...  what the program reported
//   run.stop_reason()                     why it stopped, in words, once
//
// The protocol between lab and the program is lab/protocol.hpp: run_in_box
// makes the run's secret, hands it over with the result channel, and keeps
// only the events that carry it; lines that do not are counted in
// `rejected` (a forged verdict makes a stage fail, see stage_reader.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lab/protocol.hpp"
#include "run_profile.hpp"

namespace lab {

using environment = std::vector<std::pair<std::string, std::string>>;

struct run_spec {
  std::vector<std::string> argv;      // argv[0] is the program's path
  environment env;                    // added to lab's own environment
  std::filesystem::path working_dir;  // empty: lab's own
  run_profile profile;
  // The program's stdout and stderr go straight to lab's (a demo printing
  // live to the terminal) instead of being captured.
  bool live_output = false;
  // Set from another thread or a signal handler (Ctrl-C) to stop the run;
  // the outcome is then `interrupted`.
  const std::atomic<bool>* cancel = nullptr;
};

// What a check program printed during one check, on each stream: the text
// between the harness's marks (protocol::split_output).
struct check_output {
  std::string out, err;
  // False when lab's cap on captured output may have dropped some of it:
  // a stream was cut off before this check's end mark.
  bool complete = true;
  bool empty() const { return out.empty() && err.empty(); }
};

enum class run_outcome {
  exited,           // exit_code is valid
  signaled,         // killed by term_signal (a crash, or the CPU limit)
  timed_out,        // killed by lab after profile.timeout of its own time (sandbox.hpp)
  too_busy,         // killed by lab: the machine left it no time to run; no verdict
  interrupted,      // killed by lab because *cancel became true
  failed_to_start,  // lab could not start it; start_error says why
};

struct run_result {
  run_outcome outcome = run_outcome::failed_to_start;
  int exit_code = -1;
  int term_signal = 0;
  std::string start_error;  // for failed_to_start

  std::vector<protocol::event> events;        // believed: they carried the run's secret
  protocol::channel_reader::counts rejected;  // lines that were not believed

  std::string out, err;  // captured output, up to the profile's cap each, marks removed
  std::uint64_t out_bytes = 0, err_bytes = 0;
  bool out_cut = false, err_cut = false;  // the cap dropped the rest of a stream
  // The same output by check, for a check program (the harness marks where
  // each check starts and ends); what came outside every check, such as a
  // static initialiser's or a detached thread's lines, is `outside`.
  std::map<std::string, check_output> output_by_check;
  check_output outside;

  bool task_limit_hit = false;     // a fork or thread creation hit max_tasks
  std::string timeout_evidence;    // at a timeout: what its threads were doing
  double cpu_seconds = 0;          // CPU its processes used
  double chance_seconds = 0;       // its own time: wall time it was not kept off the CPU
  int leftovers_killed = 0;        // processes still alive after the run, killed by lab
  std::vector<std::string> notes;  // what the box could not do here ("no network namespace ...")
  std::chrono::duration<double> elapsed{};
  run_profile profile;  // what the run was given (for the descriptions)

  // Ended by itself with exit code 0.
  bool succeeded() const { return outcome == run_outcome::exited && exit_code == 0; }

  // Why the program stopped, in words, or "" if it ended by itself:
  // "timed out after 8 s: every thread was blocked ...", "crashed: SIGSEGV
  // (segmentation fault)", "the machine was too busy to decide ...".
  std::string stop_reason() const;

  // What the program printed during `check` (nothing, if it printed nothing
  // or the check did not run).
  check_output output_of(const std::string& check) const;

  // The first event of type T, or nullptr.
  template <typename T>
  const T* first() const {
    for (const auto& e : events)
      if (const T* found = std::get_if<T>(&e)) return found;
    return nullptr;
  }
};

// Runs `spec` in a box, waits for it, and reads back what it reported.
// Never throws for anything the program does; throws std::system_error only
// if lab itself cannot make pipes. Safe to call from several threads at
// once: each box cleans up only its own processes.
run_result run_in_box(const run_spec& spec);

// The seconds of a timeout, as a person would say them: "8", "0.5".
std::string seconds_text(std::chrono::milliseconds timeout);

}  // namespace lab
