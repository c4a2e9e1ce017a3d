// End-to-end: `lab serve chat`, the comet chat, answers real HTTP clients on
// the loopback: the page, a long poll held until another client sends a
// message, an empty answer when the poll's wait runs out, errors in words,
// requests sent back to back. And the chat.comet demo's claim. Every wait
// has a deadline; every exchange is small.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <thread>

#include <lab/net/socket.hpp>

#include "lab_process.hpp"
#include "chat_client.hpp"
#include "serving_lab.hpp"

using lab_test::run_lab;
using lab_test::serving_lab;
using lab_test::chat_body;
using lab_test::chat_exchange;
using lab_test::chat_get;
using lab_test::chat_post;
using lab_test::chat_until_waiting;
using lab_test::chat_waiting;

namespace {

using namespace std::chrono_literals;

}  // namespace

TEST_CASE("lab serve chat serves its page with the long-poll script") {
  serving_lab lab({"chat"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  CHECK(lab.output.find("open http://127.0.0.1:" + std::to_string(port) + "/") != std::string::npos);
  const std::string page = chat_get(port, "/");
  CHECK(page.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(page.find("Content-Type: text/html") != std::string::npos);
  CHECK(page.find("fetch(\"/poll?since=\"") != std::string::npos);
  lab.press_enter();
  CHECK(lab.wait() == 0);
}

TEST_CASE("a chat poll waits until another client sends a message and then gets it") {
  serving_lab lab({"chat"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  std::string answer;
  std::thread waiting_page([&] { answer = chat_get(port, "/poll?since=0"); });
  REQUIRE(chat_until_waiting(port, 1));  // held at the server: no answer yet
  CHECK(answer.empty());
  const std::string sent = chat_post(port, "/send", "hello from another client");
  CHECK(chat_body(sent) == R"({"id":0})");
  waiting_page.join();
  INFO(answer);
  const auto news = nlohmann::json::parse(chat_body(answer), nullptr, false);
  REQUIRE(news.is_object());
  CHECK(news["messages"] == nlohmann::json::array({"hello from another client"}));
  CHECK(news["next"] == 1);
  CHECK(chat_waiting(port) == 0);
  // A later poll from 0 gets the message at once; from 1 it would wait.
  CHECK(nlohmann::json::parse(chat_body(chat_get(port, "/poll?since=0")))["messages"].size() == 1);
  lab.press_enter();
  CHECK(lab.wait() == 0);
}

TEST_CASE("a chat poll with nothing new comes back empty when its wait runs out") {
  serving_lab lab({"chat", "poll_s=1"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  const auto news = nlohmann::json::parse(chat_body(chat_get(port, "/poll?since=0")), nullptr, false);
  REQUIRE(news.is_object());
  CHECK(news["messages"].empty());
  CHECK(news["next"] == 0);
  lab.press_enter();
  CHECK(lab.wait() == 0);
}

TEST_CASE("the chat answers bad requests with their cause and unknown paths with 404") {
  serving_lab lab({"chat"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  const std::string not_http = chat_exchange(port, "HELLO\r\n\r\n");
  CHECK(not_http.rfind("HTTP/1.1 400 Bad Request", 0) == 0);
  CHECK(not_http.find("not an HTTP request") != std::string::npos);
  CHECK(chat_get(port, "/poll?since=x").find("/poll needs ?since=N") != std::string::npos);
  CHECK(chat_post(port, "/send", "").find("/send needs the message") != std::string::npos);
  CHECK(chat_post(port, "/send", std::string(5000, 'x')).find("over 4096 bytes") != std::string::npos);
  CHECK(chat_get(port, "/nowhere").rfind("HTTP/1.1 404 Not Found", 0) == 0);
  lab.press_enter();
  CHECK(lab.wait() == 0);
}

TEST_CASE("requests sent back to back on one chat connection are answered in order") {
  serving_lab lab({"chat"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  const std::string both = chat_exchange(
      port,
      "POST /send HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\n\r\nfirstGET /status HTTP/1.1\r\n"
      "Host: lab\r\nConnection: close\r\n\r\n");
  INFO(both);
  const auto first = both.find(R"({"id":0})");
  const auto second = both.find(R"({"messages":1,"waiting":0})");
  CHECK(first != std::string::npos);
  CHECK(second != std::string::npos);
  CHECK(first < second);
  lab.press_enter();
  CHECK(lab.wait() == 0);
}

TEST_CASE("chat.comet delivers one message to every waiting poll from one server thread") {
  const auto run = run_lab({"demo", "chat.comet", "clients=50"}, {}, std::chrono::seconds(120));
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("the server says 50 polls are waiting, in ") != std::string::npos);
  CHECK(run.out.find("It reached 50 of the 50 waiting polls") != std::string::npos);
  CHECK(run.out.find("One thread held all 50 requests open") != std::string::npos);
}

// Not the chat, but its lesson's other server: the slow SQLite query.
TEST_CASE("green.blocking_db freezes the pings while the handler queries and not when a thread does") {
  const auto run = run_lab({"demo", "green.blocking_db", "query_ms=300"}, {}, std::chrono::seconds(120));
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("The hub's watchdog: greenlet 'query handler' kept the thread") != std::string::npos);
  // The longest ping of each run, from its row of the table.
  const auto longest = [&](const std::string& row) {
    const auto at = run.out.find(row);
    if (at == std::string::npos) return -1.0;
    const std::string line = run.out.substr(at, run.out.find('\n', at) - at);
    const auto end = line.rfind(" ms");
    const auto start = line.rfind(' ', end - 1);
    return std::stod(line.substr(start + 1, end - start - 1));
  };
  const double blocked = longest("itself (SQLite blocks the thread)");
  const double offloaded = longest("in a thread, waited for green");
  // A ping sent as the query starts waits for all of it (calibrated to about 300 ms).
  CHECK(blocked >= 100);
  CHECK(offloaded >= 0);
  CHECK(offloaded < blocked / 2);  // the pings went on: no ping waited for the query
}
