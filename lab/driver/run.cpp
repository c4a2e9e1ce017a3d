#include "run.hpp"

#include <sys/random.h>

#include <fmt/core.h>

#include <cerrno>
#include <system_error>

#include "sandbox.hpp"

namespace lab {
namespace {

// A fresh secret for one run: 16 random bytes from the kernel, as hex.
// A program of another run (or student code guessing) cannot know it.
std::string make_secret() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "getrandom");
    got += static_cast<std::size_t>(n);
  }
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

run_outcome outcome_of(sandbox_outcome o) {
  switch (o) {
    case sandbox_outcome::exited:
      return run_outcome::exited;
    case sandbox_outcome::signaled:
      return run_outcome::signaled;
    case sandbox_outcome::timed_out:
      return run_outcome::timed_out;
    case sandbox_outcome::too_busy:
      return run_outcome::too_busy;
    case sandbox_outcome::interrupted:
      return run_outcome::interrupted;
    case sandbox_outcome::failed_to_start:
      return run_outcome::failed_to_start;
  }
  return run_outcome::failed_to_start;
}

// True if a stream cut off by the cap may have lost some of `check`'s output:
// its end mark is not in what was kept. (The harness marks both streams for
// every check it runs, so a check missing from a cut stream came after the cut.)
bool lost_at_cut(const protocol::marked_output& stream, bool cut, const std::string& check) {
  const auto found = stream.checks.find(check);
  return cut && (found == stream.checks.end() || !found->second.ended);
}

// Splits what the program printed at the check harness's marks (a program
// without them has all of its output `outside`).
void take_output(run_result& result, const std::string& out, const std::string& err) {
  protocol::marked_output marked_out = protocol::split_output(out);
  protocol::marked_output marked_err = protocol::split_output(err);
  for (const auto* stream : {&marked_out, &marked_err})
    for (const auto& [check, piece] : stream->checks) result.output_by_check[check];
  for (auto& [check, printed] : result.output_by_check) {
    if (const auto found = marked_out.checks.find(check); found != marked_out.checks.end())
      printed.out = std::move(found->second.text);
    if (const auto found = marked_err.checks.find(check); found != marked_err.checks.end())
      printed.err = std::move(found->second.text);
    printed.complete = !lost_at_cut(marked_out, result.out_cut, check) &&
                       !lost_at_cut(marked_err, result.err_cut, check);
  }
  result.outside = {.out = std::move(marked_out.outside),
                    .err = std::move(marked_err.outside),
                    .complete = !result.out_cut && !result.err_cut};
  result.out = std::move(marked_out.text);
  result.err = std::move(marked_err.text);
}

}  // namespace

check_output run_result::output_of(const std::string& check) const {
  if (const auto found = output_by_check.find(check); found != output_by_check.end())
    return found->second;
  // Not a word of it was kept: either it printed nothing, or the cap came first.
  return {.out = "", .err = "", .complete = !out_cut && !err_cut};
}

std::string seconds_text(std::chrono::milliseconds timeout) {
  return fmt::format("{:g}", std::chrono::duration<double>(timeout).count());
}

std::string run_result::stop_reason() const {
  const std::string task_cap = fmt::format(
      "it hit the limit of {} processes and threads (a fork bomb, or a worker count above the "
      "limit?)",
      profile.max_tasks);
  switch (outcome) {
    case run_outcome::timed_out:
      // Said from what the box saw its threads do, never guessed.
      return fmt::format("timed out after {} s: {}", seconds_text(profile.timeout),
                         timeout_evidence.empty() ? "it did not finish" : timeout_evidence);
    case run_outcome::too_busy:
      return fmt::format(
          "the machine was too busy to decide: in {:.0f} s the program could run for only {:.1f} "
          "s of its {} s (run it again when the machine is quieter)",
          elapsed.count(), chance_seconds, seconds_text(profile.timeout));
    case run_outcome::interrupted:
      return "interrupted";
    case run_outcome::failed_to_start:
      return "could not start the program: " + start_error;
    case run_outcome::signaled:
      return "crashed: " + describe_signal(term_signal) + (task_limit_hit ? "; " + task_cap : "");
    case run_outcome::exited:
      break;
  }
  return task_limit_hit ? task_cap : "";
}

run_result run_in_box(const run_spec& spec) {
  const std::string secret = make_secret();
  sandbox_request request;
  request.argv = spec.argv;
  request.env = spec.env;
  request.env.emplace_back(protocol::env::run_secret, secret);
  request.working_dir = spec.working_dir;
  request.limits = spec.profile;
  request.pass_output = spec.live_output;
  request.cancel = spec.cancel;
  sandbox_result box = run_sandboxed(request);

  run_result result;
  result.outcome = outcome_of(box.outcome);
  result.exit_code = box.exit_code;
  result.term_signal = box.term_signal;
  result.start_error = box.error;
  result.out_bytes = box.out_bytes;
  result.err_bytes = box.err_bytes;
  result.out_cut = box.out_bytes > box.out.size();
  result.err_cut = box.err_bytes > box.err.size();
  take_output(result, box.out, box.err);
  result.task_limit_hit = box.task_limit_hit;
  result.timeout_evidence = std::move(box.timeout_evidence);
  result.cpu_seconds = box.cpu_seconds;
  result.chance_seconds = box.chance_seconds;
  result.leftovers_killed = box.leftovers_killed;
  result.notes = std::move(box.notes);
  result.elapsed = box.elapsed;
  result.profile = spec.profile;

  protocol::channel_reader reader(secret);
  reader.feed(box.channel);
  reader.finish();
  result.events = reader.take_events();
  result.rejected = reader.rejected();
  return result;
}

}  // namespace lab
