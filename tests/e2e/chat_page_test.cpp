// End-to-end: the comet chat's page in a real browser. A headless Chromium
// (Debian's `chromium`, installed by bin/test) opens the page of `lab serve
// chat`; another client posts a message over plain HTTP; the message must
// appear in the page's list, put there by the page's own long-poll script.
//
// The browser is driven through the DevTools protocol over a pipe
// (--remote-debugging-pipe): JSON commands on its descriptor 3, replies on
// its descriptor 4, each message ended by a NUL byte. No WebSocket, no
// driver library. Every read has a deadline; the browser is killed (its
// whole process group) at the end. A binary of its own: on a machine where
// Chromium cannot start at all, the test exits 77 and ctest reports it
// skipped with Chromium's own words, instead of a failure of the chat.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <filesystem>
#include <string>
#include <thread>

#include <lab/net/socket.hpp>
#include <lab/unique_fd.hpp>

#include "lab_process.hpp"
#include "chat_client.hpp"
#include "serving_lab.hpp"

using lab_test::serving_lab;

namespace {

using namespace std::chrono_literals;
using page_clock = std::chrono::steady_clock;

class headless_chromium {
 public:
  headless_chromium() : profile_(lab_test::fresh_temp_dir()), log_(lab_test::fresh_temp_dir() / "chromium.log") {
    int commands[2], replies[2];
    REQUIRE(pipe2(commands, O_CLOEXEC) == 0);
    REQUIRE(pipe2(replies, O_CLOEXEC) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      setpgid(0, 0);  // its renderer and helper processes go with it at the end
      // Out of the way of 3 and 4 first, then onto them (dup2 clears O_CLOEXEC).
      const int in = fcntl(commands[0], F_DUPFD, 10), out = fcntl(replies[1], F_DUPFD, 10);
      dup2(in, 3);
      dup2(out, 4);
      const int null = open("/dev/null", O_RDWR);
      const int log = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(null, 0);
      dup2(null, 1);
      dup2(log, 2);  // its warnings (D-Bus, the GPU): read only if it does not start
      const std::string profile = "--user-data-dir=" + profile_.string();
      execlp("chromium", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", profile.c_str(), "about:blank", nullptr);
      _exit(127);
    }
    close(commands[0]);
    close(replies[1]);
    commands_ = lab::unique_fd(commands[1]);
    replies_ = lab::unique_fd(replies[0]);
  }

  ~headless_chromium() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(profile_, ec);
    std::filesystem::remove_all(log_.parent_path(), ec);
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Whether it started and answers the protocol (asked once, with a bound:
  // a first start may take a while on a slow machine).
  bool answers() {
    nlohmann::json command = {{"id", ++last_id_}, {"method", "Browser.getVersion"}};
    const std::string text = command.dump() + '\0';
    if (write(commands_.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      return false;
    for (;;) {
      const nlohmann::json reply = next_message(60s);
      if (reply.is_null()) return false;
      if (reply.value("id", -1) == last_id_) return !reply.contains("error");
    }
  }

  // The end of what it said on stderr, for when it did not start.
  std::string said() const {
    std::ifstream in(log_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 600 ? text.substr(text.size() - 600) : text;
  }

  // Sends one command and returns its reply's "result" (events and other
  // replies on the way are skipped); fails the test on an error or silence.
  nlohmann::json call(const std::string& method, nlohmann::json params = nlohmann::json::object(),
                      const std::string& session = "") {
    nlohmann::json command = {{"id", ++last_id_}, {"method", method}, {"params", params}};
    if (!session.empty()) command["sessionId"] = session;
    const std::string text = command.dump() + '\0';
    REQUIRE(write(commands_.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    for (;;) {
      const nlohmann::json reply = next_message(60s);
      REQUIRE_MESSAGE(!reply.is_null(), "Chromium did not answer ", method,
                      " (is the chromium package installed? bin/test installs it)");
      if (reply.value("id", -1) != last_id_) continue;
      REQUIRE_MESSAGE(!reply.contains("error"), method, ": ", reply["error"].dump());
      return reply["result"];
    }
  }

 private:
  // The next NUL-ended message, or null after `patience` without one.
  nlohmann::json next_message(std::chrono::milliseconds patience) {
    const auto until = page_clock::now() + patience;
    for (;;) {
      if (const auto end = buffer_.find('\0'); end != std::string::npos) {
        const std::string message = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return nlohmann::json::parse(message, nullptr, false);
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - page_clock::now());
      pollfd entry{replies_.get(), POLLIN, 0};
      if (left.count() <= 0 || poll(&entry, 1, static_cast<int>(left.count())) != 1) return nullptr;
      char chunk[65536];
      const ssize_t got = read(replies_.get(), chunk, sizeof chunk);
      if (got <= 0) return nullptr;  // it ended
      buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }

  std::filesystem::path profile_, log_;
  pid_t pid_ = -1;
  lab::unique_fd commands_, replies_;
  std::string buffer_;
  int last_id_ = 0;
};

}  // namespace

// Exit code 77: this machine cannot run Chromium at all (ctest shows the test
// skipped, with the reason below). Once Chromium answers, every failure is one.
TEST_CASE("a message posted by another client appears on the chat page in a real browser") {
  headless_chromium browser;
  if (!browser.answers()) {
    const std::string said = browser.said();
    browser.stop();
    std::fprintf(stderr, "skipped: Chromium did not start here (bin/test installs the chromium "
                         "package); it said:\n%s\n", said.c_str());
    std::fflush(stderr);
    std::_Exit(77);
  }
  serving_lab lab({"chat"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  const auto target = browser.call(
      "Target.createTarget", {{"url", "http://127.0.0.1:" + std::to_string(port) + "/"}});
  const auto attached = browser.call("Target.attachToTarget",
                                     {{"targetId", target["targetId"]}, {"flatten", true}});
  const std::string session = attached["sessionId"];
  // The page's script has loaded and asked /poll: the server holds it.
  REQUIRE_MESSAGE(lab_test::chat_until_waiting(port, 1, 60s), "the page never asked /poll");

  const std::string message = "posted by another client over plain HTTP";
  const std::string sent = lab_test::chat_post(port, "/send", message);
  REQUIRE(sent.rfind("HTTP/1.1 200 OK", 0) == 0);

  std::string shown;
  const auto until = page_clock::now() + 30s;
  while (shown.find(message) == std::string::npos && page_clock::now() < until) {
    const auto evaluated = browser.call(
        "Runtime.evaluate",
        {{"expression", "document.getElementById('log').innerText"}, {"returnByValue", true}},
        session);
    shown = evaluated["result"].value("value", "");
    if (shown.find(message) == std::string::npos) std::this_thread::sleep_for(50ms);
  }
  INFO("the page's list: ", shown);
  CHECK(shown.find(message) != std::string::npos);
  // And the page went back to waiting for the next one.
  CHECK(lab_test::chat_until_waiting(port, 1, 30s));
  lab.press_enter();
  CHECK(lab.wait() == 0);
}
